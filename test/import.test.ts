import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import request from 'supertest';
import { ImportsProcessor, ImportsWorker } from '../src/clinics/import/index.js';
import { ClinicsRepository } from '../src/clinics/index.js';
import {
  BatchSurprise,
  ClinicEnrollmentsService,
} from '../src/clinics/clinic-enrollments.service.js';
import { SubscribersRepository } from '../src/subscribers/index.js';
import { ADMIN_TOKEN, dropPrefix, startApp, uniquePrefix, type TestApp } from './support/app.js';
import { startContract, type Contract } from './support/contract.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { waitFor } from './support/wait.js';

/**
 * Bulk CSV import through the real HTTP API (ROLE=api, behind the contract checker) with a
 * real worker process role beside it (ROLE=worker, same database and BullMQ prefix) that
 * enrols the staged rows.
 */
describe('CSV import', () => {
  let tdb: TestDatabase;
  let api: TestApp;
  let worker: TestApp | undefined;
  const prefix = uniquePrefix();
  let contract: Contract;
  let appUrl: string;
  let appServer: http.Server;
  let seq = 0;

  const startWorker = async () =>
    (worker = await startApp({ databaseUrl: tdb.url, prefix, env: { ROLE: 'worker' } }));

  beforeAll(async () => {
    tdb = await createTestDatabase();
    api = await startApp({ databaseUrl: tdb.url, prefix, env: { ROLE: 'api' } });
    contract = await startContract(api.app);
    appServer = http.createServer(api.app.getHttpAdapter().getInstance());
    await new Promise<void>((r) => appServer.listen(0, '127.0.0.1', r));
    appUrl = `http://127.0.0.1:${(appServer.address() as AddressInfo).port}`;
    await startWorker();
  });
  afterEach(() => contract.assertNoViolations());
  afterAll(async () => {
    await contract?.close();
    appServer?.closeAllConnections();
    await new Promise((r) => appServer?.close(r));
    await worker?.close();
    await api?.close();
    await dropPrefix(prefix);
    await tdb?.drop();
  });

  const http_ = () => request(contract.server);
  async function newClinic(consentMode: 'attested' | 'confirm' = 'attested') {
    const res = await http_()
      .post('/api/v1/admin/clinics')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({
        name: `Clinic ${seq++}`,
        timezone: 'America/New_York',
        senderName: 'Riverside Chiropractic',
        replyTo: 'desk@riverside.example',
        phone: '+1 212 555 0199',
        postalAddress: '12 River St, Springfield, NY 10001',
        bookingUrl: 'https://riverside.example/book',
        consentMode,
      })
      .expect(201);
    const key = await http_()
      .post(`/api/v1/admin/clinics/${res.body.id}/api-keys`)
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({ scopes: ['import', 'enrollments:read'] })
      .expect(201);
    return { id: res.body.id as string, key: key.body.apiKey as string };
  }

  const upload = (key: string, csv: string | Buffer, query = '') =>
    http_()
      .post(`/api/v1/enrollments/import${query}`)
      .set('Authorization', `Bearer ${key}`)
      .set('Content-Type', 'text/csv')
      .send(csv);
  const progress = (key: string, id: string) =>
    http_().get(`/api/v1/enrollments/import/${id}`).set('Authorization', `Bearer ${key}`);
  const errorsCsv = (key: string, id: string) =>
    http_()
      .get(`/api/v1/enrollments/import/${id}/errors.csv`)
      .set('Authorization', `Bearer ${key}`)
      .buffer(true)
      .parse((res, done) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => done(null, text));
      });
  async function finished(key: string, id: string) {
    return waitFor(
      async () => {
        const res = await progress(key, id).expect(200);
        return ['completed', 'failed', 'rejected'].includes(res.body.status) ? res.body : null;
      },
      `import ${id} to finish`,
      30_000,
      100,
    );
  }

  const HEADER =
    'name,email,phone,channel,timezone,sendTime,externalId,consentMethod,consentObtainedAt,consentCollectedBy';
  let phoneSeq = 1000;
  const phone = () => `+1213375${phoneSeq++}`;
  const goodRow = (i: number) =>
    `Patient ${i},,${phone()},sms,America/New_York,08:00,ext-${i},written,2026-01-05T10:00:00Z,Front desk`;
  const enrolmentsOf = (clinicId: string) =>
    tdb.db.selectFrom('enrollments').selectAll().where('clinic_id', '=', clinicId).execute();
  const rowsOf = (importId: string) =>
    tdb.db.selectFrom('import_rows').selectAll().where('import_id', '=', importId).execute();

  it('enrols 47 of 50 rows and reports the 3 bad ones with their row numbers', async () => {
    const c = await newClinic();
    const lines = [HEADER];
    for (let i = 1; i <= 50; i++) {
      const row = i + 1; // the header is row 1
      if (row === 5)
        lines.push(
          `Bad Email,not-an-email,,email,,08:00,ext-${i},written,2026-01-05T10:00:00Z,Desk`,
        );
      else if (row === 20)
        lines.push(
          `Excel Phone,,4.15555E+10,sms,,08:00,ext-${i},written,2026-01-05T10:00:00Z,Desk`,
        );
      else if (row === 40)
        lines.push(`Excel Time,,${phone()},sms,,0.375,ext-${i},written,2026-01-05T10:00:00Z,Desk`);
      else lines.push(goodRow(i));
    }
    const res = await upload(c.key, lines.join('\n') + '\n', '?filename=november.csv').expect(202);
    expect(res.headers.location).toBe(`/api/v1/enrollments/import/${res.body.id}`);
    expect(res.body).toMatchObject({ totalRows: 50, dryRun: false, filename: 'november.csv' });
    const done = await finished(c.key, res.body.id);
    expect(done).toMatchObject({
      status: 'completed',
      totalRows: 50,
      processed: 50,
      enrolled: 47,
      invited: 0,
      failed: 3,
    });
    const enrolled = await enrolmentsOf(c.id);
    expect(enrolled).toHaveLength(47);
    expect(new Set(enrolled.map((e) => e.status))).toEqual(new Set(['active']));
    expect(new Set(enrolled.map((e) => e.source))).toEqual(new Set(['clinic-import']));
    const report = (await errorsCsv(c.key, res.body.id).expect(200)).body as unknown as string;
    const reportLines = report.trim().split('\r\n');
    expect(reportLines[0]).toBe(`row,error,${HEADER}`);
    expect(reportLines.slice(1).map((l) => l.split(',')[0])).toEqual(['5', '20', '40']);
    expect(reportLines[1]).toMatch(/email: is not a valid email address/);
    expect(reportLines[2]).toMatch(
      /phone: looks like Excel turned the phone number into a number in scientific notation; format the column as text/,
    );
    expect(reportLines[3]).toMatch(/sendTime: looks like Excel turned the time into a fraction/);
    // Only the failed rows are kept, for the report.
    expect((await rowsOf(res.body.id)).map((r) => r.row_number).sort((a, b) => a - b)).toEqual([
      5, 20, 40,
    ]);
  });

  it('a dry run checks every row and enrols nobody', async () => {
    const c = await newClinic();
    const p1 = phone();
    const csv = [
      HEADER,
      `Dry Run,,${p1},sms,,08:00,x,written,2026-01-05T10:00:00Z,D`,
      goodRow(2),
      'X,,12,sms,,08:00,x,written,2026-01-05T10:00:00Z,D',
    ];
    const res = await upload(c.key, csv.join('\n'), '?dryRun=true').expect(202);
    const done = await finished(c.key, res.body.id);
    expect(done).toMatchObject({ status: 'completed', dryRun: true, enrolled: 2, failed: 1 });
    expect(await enrolmentsOf(c.id)).toHaveLength(0);
    expect(
      await tdb.db.selectFrom('subscribers').selectAll().where('phone', '=', p1).execute(),
    ).toHaveLength(0);
    const report = (await errorsCsv(c.key, res.body.id).expect(200)).body as unknown as string;
    expect(report).toMatch(/^4,"phone: is not a valid mobile number/m);
  });

  it('reads a BOM, CRLF, any header case, and quoted fields with commas, quotes and line breaks', async () => {
    const c = await newClinic();
    const p1 = phone();
    const csv =
      '\ufeffNAME,Phone,Channel,Send Time,consent_method,ConsentObtainedAt,consentCollectedBy,consentText\r\n' +
      `"Lee, Sam",${p1},sms,07:30,verbal,2026-01-05T10:00:00Z,"Dr ""Ana"" Ruiz","Line one,\r\nline two"\r\n` +
      '\r\n' +
      `Bad Row,${phone()},fax,07:30,verbal,2026-01-05T10:00:00Z,Desk,\r\n`;
    const res = await upload(c.key, csv).expect(202);
    const done = await finished(c.key, res.body.id);
    expect(done).toMatchObject({ status: 'completed', enrolled: 1, failed: 1 });
    const sub = await tdb.db
      .selectFrom('subscribers')
      .selectAll()
      .where('phone', '=', p1)
      .executeTakeFirstOrThrow();
    expect(sub.name).toBe('Lee, Sam');
    const consent = await tdb.db
      .selectFrom('consent_events')
      .selectAll()
      .where('subscriber_id', '=', sub.id)
      .executeTakeFirstOrThrow();
    expect(consent).toMatchObject({ collected_by: 'Dr "Ana" Ruiz', text: 'Line one,\r\nline two' });
    const [e] = await enrolmentsOf(c.id);
    expect(e).toMatchObject({ send_time: '07:30', timezone: 'America/New_York' });
    // Row 2 spans two lines of the file, row 3 is blank: the bad row is row 4, as a spreadsheet shows.
    const report = (await errorsCsv(c.key, res.body.id).expect(200)).body as unknown as string;
    expect(report.split('\r\n')[1]).toMatch(/^4,"channel: must be ""email"" or ""sms"""/);
  });

  it('refuses Excel-mangled phones, times and dates row by row, saying what happened', async () => {
    const c = await newClinic();
    const csv = [
      HEADER,
      `A,,4.15555E+10,sms,,08:00,a,written,2026-01-05T10:00:00Z,D`,
      `B,,${phone()},sms,,1900-01-00,b,written,2026-01-05T10:00:00Z,D`,
      `C,,${phone()},sms,,08:00,c,written,45890.5,D`,
      `D,,12133751999,sms,,08:00,d,written,2026-01-05T10:00:00Z,D`,
      goodRow(5),
    ].join('\r\n');
    const res = await upload(c.key, csv).expect(202);
    expect(await finished(c.key, res.body.id)).toMatchObject({ enrolled: 1, failed: 4 });
    const rows = await rowsOf(res.body.id);
    expect(rows.map((r) => [r.row_number, r.error])).toEqual([
      [
        2,
        expect.stringMatching(
          /^phone: looks like Excel turned the phone number into a number in scientific notation/,
        ),
      ],
      [
        3,
        expect.stringMatching(
          /^sendTime: looks like Excel turned the time into a date \(1900-01-00\)/,
        ),
      ],
      [
        4,
        expect.stringMatching(
          /^consentObtainedAt: looks like Excel turned the date into a day number/,
        ),
      ],
      [5, expect.stringMatching(/^phone: .*no leading \+: Excel drops it/)],
    ]);
  });

  it('refuses unknown and missing columns with a 400 naming them, storing nothing', async () => {
    const c = await newClinic();
    const res = await upload(c.key, `Name,Phone,Fax,Shoe Size\nPat,${phone()},1,2\n`).expect(400);
    expect(res.body.message).toMatch(/unknown columns "Fax", "Shoe Size"/);
    expect(res.body.message).toMatch(/missing required column: channel/);
    const jobs = await tdb.db
      .selectFrom('import_jobs')
      .selectAll()
      .where('clinic_id', '=', c.id)
      .execute();
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ status: 'rejected', total_rows: 0 });
    expect(jobs[0]!.reason).toMatch(/Fax/);
    expect(await rowsOf(jobs[0]!.id)).toHaveLength(0);
    expect(await enrolmentsOf(c.id)).toHaveLength(0);
    // Broken quoting is a file-level refusal too, after rows were already staged.
    const rows = [HEADER, ...Array.from({ length: 700 }, (_, i) => goodRow(i)), 'Pat,"open quote'];
    const quoted = await upload(c.key, rows.join('\n')).expect(400);
    expect(quoted.body.message).toMatch(/row 702: a quoted field is never closed/);
    const [, second] = await tdb.db
      .selectFrom('import_jobs')
      .selectAll()
      .where('clinic_id', '=', c.id)
      .orderBy('created_at')
      .execute();
    expect(second).toMatchObject({ status: 'rejected' });
    expect(await rowsOf(second!.id)).toHaveLength(0);
    expect(await enrolmentsOf(c.id)).toHaveLength(0);
    await upload(c.key, '').expect(400);
    await upload(c.key, `${HEADER}\n`).expect(400);
  });

  it('refuses binary data and non-UTF-8 text with a 400', async () => {
    const c = await newClinic();
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]);
    const bin = await upload(c.key, png).expect(400);
    expect(bin.body.message).toMatch(/body: is not a text CSV file/);
    const latin1 = Buffer.from(
      `${HEADER}\nJos\xe9,,${phone()},sms,,08:00,x,written,2026-01-05T10:00:00Z,D\n`,
      'latin1',
    );
    const l = await upload(c.key, latin1).expect(400);
    expect(l.body.message).toMatch(/UTF-8/);
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(HEADER, 'utf16le')]);
    expect((await upload(c.key, utf16).expect(400)).body.message).toMatch(/UTF-16/);
    expect(await enrolmentsOf(c.id)).toHaveLength(0);
    const wrongType = await http_()
      .post('/api/v1/enrollments/import')
      .set('Authorization', `Bearer ${c.key}`)
      .set('Content-Type', 'application/json')
      .send({ a: 1 })
      .expect(400);
    expect(wrongType.body.message).toMatch(/Content-Type: must be text\/csv/);
  });

  it('refuses a row over 10 MB without reading the file into memory', async () => {
    const c = await newClinic();
    // 60 MB in one unquoted line, made as it is sent: the parser must stop at 10 MB.
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    const body = new Readable({
      read() {
        if (sent === 0) this.push(`${HEADER}\n`);
        if (sent >= 60 * 1024 * 1024) return this.push(null);
        sent += chunk.length;
        this.push(chunk);
      },
    });
    // The parser's buffers live outside the JS heap: count both.
    const used = () => {
      const m = process.memoryUsage();
      return m.heapUsed + m.external;
    };
    const before = used();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, used())), 5);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        `${appUrl}/api/v1/enrollments/import`,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${c.key}`, 'content-type': 'text/csv' },
        },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      body.pipe(req);
    });
    clearInterval(sampler);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).message).toMatch(
      /row 2: is longer than the 10 MB limit for one row/,
    );
    // The parser holds at most one 10 MB row (as bytes); the whole line would be 60 MB+.
    expect(peak - before).toBeLessThan(56 * 1024 * 1024);
    const [job] = await tdb.db
      .selectFrom('import_jobs')
      .selectAll()
      .where('clinic_id', '=', c.id)
      .execute();
    expect(job).toMatchObject({ status: 'rejected' });
    expect(await rowsOf(job!.id)).toHaveLength(0);
  });

  it('runs one import per clinic at a time: a second one answers 409 naming the first', async () => {
    const c = await newClinic();
    const other = await newClinic();
    // The first upload stays open (still being received) while the second arrives.
    const first = new Readable({ read() {} });
    const firstAnswer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        `${appUrl}/api/v1/enrollments/import`,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${c.key}`, 'content-type': 'text/csv' },
        },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      first.pipe(req);
    });
    first.push(`${HEADER}\n${goodRow(1)}\n`);
    const receiving = await waitFor(
      () =>
        tdb.db
          .selectFrom('import_jobs')
          .selectAll()
          .where('clinic_id', '=', c.id)
          .where('status', '=', 'receiving')
          .executeTakeFirst(),
      'the first import to be receiving',
    );
    const second = await upload(c.key, `${HEADER}\n${goodRow(2)}\n`).expect(409);
    expect(second.body.message).toContain(`import ${receiving.id} is still receiving`);
    // Another clinic is not held up.
    const elsewhere = await upload(other.key, `${HEADER}\n${goodRow(3)}\n`).expect(202);
    first.push(`${goodRow(4)}\n`);
    first.push(null);
    const answered = await firstAnswer;
    expect(answered.status).toBe(202);
    expect(JSON.parse(answered.body).id).toBe(receiving.id);
    expect(await finished(c.key, receiving.id)).toMatchObject({ enrolled: 2 });
    await finished(other.key, elsewhere.body.id);
    // Once it is done, the clinic can import again.
    await upload(c.key, `${HEADER}\n${goodRow(5)}\n`).expect(202);
  });

  it('another clinic’s import, or a malformed id, is 404', async () => {
    const a = await newClinic();
    const b = await newClinic();
    const res = await upload(
      a.key,
      `${HEADER}\nX,,12,sms,,08:00,x,written,2026-01-05T10:00:00Z,D\n`,
    ).expect(202);
    await finished(a.key, res.body.id);
    const p = await progress(b.key, res.body.id).expect(404);
    expect(p.body.message).toBe(`import ${res.body.id} not found`);
    await errorsCsv(b.key, res.body.id).expect(404);
    await progress(a.key, 'not-a-uuid').expect(404);
    await progress(a.key, '7d0e3b52-4f8a-4c1e-9a61-2b7f0c9d1e34').expect(404);
    // A key without the import scope is refused before the file is read.
    const readOnly = await http_()
      .post(`/api/v1/admin/clinics/${a.id}/api-keys`)
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({ scopes: ['enrollments:read'] })
      .expect(201);
    await upload(readOnly.body.apiKey, `${HEADER}\n${goodRow(1)}\n`).expect(403);
    await http_()
      .post('/api/v1/enrollments/import')
      .set('Content-Type', 'text/csv')
      .send('x')
      .expect(401);
  });

  it('invites rows without consent columns instead of enrolling them', async () => {
    const c = await newClinic('attested');
    const p1 = phone();
    const csv = `name,phone,email,channel\nPat,${p1},,sms\nSam,,sam.import@example.com,email\n`;
    const res = await upload(c.key, csv).expect(202);
    expect(await finished(c.key, res.body.id)).toMatchObject({
      enrolled: 0,
      invited: 2,
      failed: 0,
    });
    const list = await enrolmentsOf(c.id);
    expect(list.map((e) => e.status)).toEqual(['pending', 'pending']);
    expect(
      await tdb.db.selectFrom('consent_events').selectAll().where('clinic_id', '=', c.id).execute(),
    ).toHaveLength(0);
  });

  it('enrols a patient listed twice once; the second row says so', async () => {
    const c = await newClinic();
    const p1 = phone();
    const row = `Pat,,${p1},sms,,08:00,x,written,2026-01-05T10:00:00Z,D`;
    const res = await upload(c.key, [HEADER, row, row].join('\n')).expect(202);
    expect(await finished(c.key, res.body.id)).toMatchObject({ enrolled: 1, failed: 1 });
    expect(await enrolmentsOf(c.id)).toHaveLength(1);
    expect((await rowsOf(res.body.id))[0]).toMatchObject({
      row_number: 3,
      error: 'campaign: this patient is already enrolled in "upper-back-relief" by this clinic',
    });
  });

  // A batch is enrolled a statement per step for all its rows (ClinicEnrollmentsService
  // .enrolManyIn); these rows would break that if a rule were applied to the batch as a whole
  // rather than to each row in file order.
  it('a batch with a patient twice, opted-out and unsubscribed patients in the middle: each row as on its own', async () => {
    const c = await newClinic();
    const [p1, p2, pOptedOut, pWithdrawn, pBefore, p3] = [1, 2, 3, 4, 5, 6].map(() => phone());
    const p3Email = `linked-${p3!.slice(1)}@example.com`;
    await tdb.db
      .insertInto('suppressions')
      .values({ address: pOptedOut!, channel: 'sms', reason: 'stop', created_at: new Date() })
      .execute();
    const withdrawn = await tdb.db
      .insertInto('subscribers')
      .values({ phone: pWithdrawn!, name: 'Old Name' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await tdb.db
      .insertInto('consent_events')
      .values({
        subscriber_id: withdrawn.id,
        kind: 'withdrawn',
        channel: 'sms',
        source: 'unsubscribe-link',
        clinic_id: c.id,
      })
      .execute();
    const before = await upload(c.key, `${HEADER}\nEarlier,,${pBefore},sms,,08:00,x,,,\n`);
    expect(await finished(c.key, before.body.id)).toMatchObject({ invited: 1 });
    const consent = 'written,2026-01-05T10:00:00Z,D';
    const csv = [
      HEADER,
      `Pat One,,${p1},sms,,08:00,r2,${consent}`,
      `Pat Two,,${p2},sms,,08:00,r3,${consent}`,
      `Opted Out,,${pOptedOut},sms,,08:00,r4,${consent}`,
      `Renamed By Row Five,,${p1},sms,,09:00,r5,${consent}`,
      `New Name,,${pWithdrawn},sms,,08:00,r6,${consent}`,
      `Earlier Again,,${pBefore},sms,,08:00,r7,${consent}`,
      `Pat Three,${p3Email},${p3},sms,,08:00,r8,${consent}`,
      `Pat Three By Email,${p3Email},,email,,08:00,r9,${consent}`,
    ].join('\n');
    const expected = [
      [
        4,
        'phone: this address opted out of all messages; only its owner can opt back in (START by text, or signing up again)',
      ],
      [5, 'campaign: this patient is already enrolled in "upper-back-relief" by this clinic'],
      [
        6,
        "phone: this patient unsubscribed from this clinic's messages; only they can opt back in (the clinic's signup page)",
      ],
      [7, 'campaign: this patient is already enrolled in "upper-back-relief" by this clinic'],
    ];
    const processor = worker!.get(ImportsProcessor);
    const failedRows = async (id: string) =>
      (await rowsOf(id)).map((r) => [r.row_number, r.error]).sort((a, b) => +a[0]! - +b[0]!);
    // Dry runs, a row at a time and then all at once, find the same.
    processor.rowByRow = true;
    try {
      const dry = await upload(c.key, csv, '?dryRun=true').expect(202);
      expect(await finished(c.key, dry.body.id)).toMatchObject({ enrolled: 4, failed: 4 });
      expect(await failedRows(dry.body.id)).toEqual(expected);
    } finally {
      processor.rowByRow = false;
    }
    const redone = processor.redone;
    const dry = await upload(c.key, csv, '?dryRun=true').expect(202);
    expect(await finished(c.key, dry.body.id)).toMatchObject({ enrolled: 4, failed: 4 });
    expect(await failedRows(dry.body.id)).toEqual(expected);

    const res = await upload(c.key, csv).expect(202);
    expect(await finished(c.key, res.body.id)).toMatchObject({
      processed: 8,
      enrolled: 4,
      failed: 4,
    });
    expect(await failedRows(res.body.id)).toEqual(expected);
    // Done in one pass each time: no batch had to be redone a row at a time.
    expect(processor.redone).toBe(redone);
    const sub = (column: 'phone' | 'email', value: string) =>
      tdb.db.selectFrom('subscribers').selectAll().where(column, '=', value).executeTakeFirst();
    // Refused rows wrote nothing: no new name, no subscriber for the opted-out number.
    expect((await sub('phone', p1!))!.name).toBe('Pat One');
    expect((await sub('phone', pWithdrawn!))!.name).toBe('Old Name');
    expect(await sub('phone', pOptedOut!)).toBeUndefined();
    // Row 8 linked the email address to its person; row 9 enrolled that same person by email.
    const bySms = (await sub('phone', p3!))!;
    const byEmail = (await sub('email', p3Email))!;
    expect(byEmail.person_id).toBe(bySms.person_id);
    const enrolled = await enrolmentsOf(c.id);
    expect(enrolled.map((e) => e.external_id).sort()).toEqual(['r2', 'r3', 'r8', 'r9', 'x']);
    expect(enrolled.find((e) => e.external_id === 'r2')).toMatchObject({ send_time: '08:00' });
    const events = await tdb.db
      .selectFrom('consent_events')
      .select(['subscriber_id', 'kind'])
      .where('clinic_id', '=', c.id)
      .where('kind', '=', 'attested')
      .execute();
    expect(events.map((e) => e.subscriber_id).sort()).toEqual(
      enrolled
        .filter((e) => e.external_id !== 'x')
        .map((e) => e.subscriber_id)
        .sort(),
    );
  });

  it('a batch that meets a surprise is undone and done again a row at a time', async () => {
    const c = await newClinic();
    const rows = [1, 2, 3].map((i) => goodRow(i));
    const processor = worker!.get(ImportsProcessor);
    const service = worker!.get(ClinicEnrollmentsService);
    const real = service.enrolManyIn.bind(service);
    // The batch writes everything, then finds a concurrent change (as if an enrolment it
    // counted on had been taken meanwhile).
    service.enrolManyIn = async (...args) => {
      await real(...args);
      throw new BatchSurprise('a patient was enrolled by another transaction');
    };
    const redone = processor.redone;
    try {
      const res = await upload(c.key, [HEADER, ...rows, rows[0]].join('\n')).expect(202);
      expect(await finished(c.key, res.body.id)).toMatchObject({ enrolled: 3, failed: 1 });
      expect((await rowsOf(res.body.id)).map((r) => [r.row_number, r.error])).toEqual([
        [5, 'campaign: this patient is already enrolled in "upper-back-relief" by this clinic'],
      ]);
    } finally {
      service.enrolManyIn = real;
    }
    expect(processor.redone).toBe(redone + 1);
    const enrolled = await enrolmentsOf(c.id);
    expect(enrolled).toHaveLength(3);
    expect(
      await tdb.db.selectFrom('consent_events').selectAll().where('clinic_id', '=', c.id).execute(),
    ).toHaveLength(3);
  });

  it('a crash in the middle of a batch loses that batch whole; resumed, each good row is enrolled once', async () => {
    await worker!.close();
    worker = undefined;
    const c = await newClinic();
    const lines = [HEADER];
    for (let i = 1; i <= 30; i++)
      lines.push(
        i % 7 === 0 ? `Bad ${i},,nope,sms,,08:00,x,written,2026-01-05T10:00:00Z,D` : goodRow(i),
      );
    lines.push(lines[3]!); // row 32: the patient of row 4 again, in another batch
    const res = await upload(c.key, lines.join('\n')).expect(202);
    const id = res.body.id as string;
    const processor = api.get(ImportsProcessor);
    const subscribers = api.get(SubscribersRepository);
    const job = (await processor.claim(id, 'crashing-worker'))!;
    const clinic = (await api.get(ClinicsRepository).find(c.id))!;
    await processor.runBatch(job, clinic, 'crashing-worker', 10);
    // The second batch loses its database connection after its enrolments were written.
    const record = subscribers.recordConsents.bind(subscribers);
    subscribers.recordConsents = async (trx, events) => {
      subscribers.recordConsents = record;
      await sql`SELECT pg_terminate_backend(pg_backend_pid())`.execute(trx);
      return record(trx, events);
    };
    try {
      await expect(processor.runBatch(job, clinic, 'crashing-worker', 10)).rejects.toThrow();
    } finally {
      subscribers.recordConsents = record;
    }
    expect(await enrolmentsOf(c.id)).toHaveLength(9);
    expect((await progress(c.key, id).expect(200)).body).toMatchObject({
      processed: 10,
      enrolled: 9,
    });
    // Its lease runs out; a worker resumes after the checkpoint.
    await tdb.db
      .updateTable('import_jobs')
      .set({ lease_until: new Date(Date.now() - 1000) })
      .where('id', '=', id)
      .execute();
    expect(await processor.process(id)).toBe('completed');
    expect((await progress(c.key, id).expect(200)).body).toMatchObject({
      status: 'completed',
      processed: 31,
      enrolled: 26,
      failed: 5,
    });
    const enrolled = await enrolmentsOf(c.id);
    expect(enrolled).toHaveLength(26);
    expect(new Set(enrolled.map((e) => e.subscriber_id)).size).toBe(26);
    const events = await tdb.db
      .selectFrom('consent_events')
      .select('subscriber_id')
      .where('clinic_id', '=', c.id)
      .execute();
    expect(events).toHaveLength(26);
    expect((await rowsOf(id)).map((r) => r.row_number).sort((a, b) => a - b)).toEqual([
      8, 15, 22, 29, 32,
    ]);
    await startWorker();
  });

  it('resumes after a dead worker from its checkpoint, enrolling each good row exactly once', async () => {
    await worker!.close();
    worker = undefined;
    const c = await newClinic();
    const lines = [HEADER];
    for (let i = 1; i <= 60; i++)
      lines.push(
        i % 15 === 0 ? `Bad ${i},,nope,sms,,08:00,x,written,2026-01-05T10:00:00Z,D` : goodRow(i),
      );
    const res = await upload(c.key, lines.join('\n')).expect(202);
    const id = res.body.id as string;
    // A worker takes the import, commits two batches of 10, then dies holding its lease.
    const processor = api.get(ImportsProcessor);
    const job = (await processor.claim(id, 'dead-worker'))!;
    const clinic = (await api.get(ClinicsRepository).find(c.id))!;
    await processor.runBatch(job, clinic, 'dead-worker', 10);
    await processor.runBatch(job, clinic, 'dead-worker', 10);
    expect(await enrolmentsOf(c.id)).toHaveLength(19);
    expect((await progress(c.key, id).expect(200)).body).toMatchObject({
      status: 'running',
      processed: 20,
      enrolled: 19,
      failed: 1,
    });
    // A new worker starts; its job from the queue finds the lease still live and leaves it.
    const w = await startWorker();
    await waitFor(
      async () => (await w.get(ImportsProcessor).process(id)) === 'busy',
      'a live lease to keep the import',
    );
    expect((await progress(c.key, id).expect(200)).body.processed).toBe(20);
    // The lease runs out (the dead worker never renews it): the watchdog queues it again.
    await tdb.db
      .updateTable('import_jobs')
      .set({ lease_until: new Date(Date.now() - 1000) })
      .where('id', '=', id)
      .execute();
    expect(await w.get(ImportsWorker).recover()).toBeGreaterThanOrEqual(1);
    const done = await finished(c.key, id);
    expect(done).toMatchObject({ status: 'completed', processed: 60, enrolled: 56, failed: 4 });
    const enrolled = await enrolmentsOf(c.id);
    expect(enrolled).toHaveLength(56);
    expect(new Set(enrolled.map((e) => e.subscriber_id)).size).toBe(56);
    expect((await rowsOf(id)).map((r) => r.row_number).sort((a, b) => a - b)).toEqual([
      16, 31, 46, 61,
    ]);
    // The dead worker, were it to wake up, cannot write another batch.
    await expect(processor.runBatch(job, clinic, 'dead-worker', 10)).rejects.toThrow(
      /lost the lease/,
    );
  });

  it('reached every documented import operation', () => {
    expect(contract.unexercised((op) => op.includes('/api/v1/enrollments/import'))).toEqual([]);
  });
});

import { Inject, Injectable } from '@nestjs/common';
import { sql, type Transaction } from 'kysely';
import { Clock } from '../common/index.js';
import {
  DB,
  type Channel,
  type ConsentKind,
  type Database,
  type Db,
  type Subscriber,
} from '../database/index.js';

type Executor = Db | Transaction<Database>;

@Injectable()
export class SubscribersRepository {
  constructor(
    @Inject(DB) private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /** Finds the person by the address of the channel, or creates them. */
  async findOrCreate(
    trx: Executor,
    contact: { email: string | null; phone: string | null; name: string | null },
    by: Channel,
    opts: { updateName: boolean } = { updateName: true },
  ): Promise<Subscriber> {
    const column = by === 'email' ? 'email' : 'phone';
    const key = contact[column];
    if (!key) throw new Error(`no ${column} to identify the subscriber by`);
    const existing = await trx
      .selectFrom('subscribers')
      .selectAll()
      .where(column, '=', key)
      .forUpdate()
      .executeTakeFirst();
    if (existing) {
      if (opts.updateName && contact.name && contact.name !== existing.name) {
        return trx
          .updateTable('subscribers')
          .set({ name: contact.name, updated_at: this.clock.now() })
          .where('id', '=', existing.id)
          .returningAll()
          .executeTakeFirstOrThrow();
      }
      return existing;
    }
    const inserted = await trx
      .insertInto('subscribers')
      .values({
        created_at: this.clock.now(),
        updated_at: this.clock.now(),
        email: by === 'email' ? key : null,
        phone: by === 'sms' ? key : null,
        name: contact.name,
      })
      .onConflict((oc) => oc.column(column).where(column, 'is not', null).doNothing())
      .returningAll()
      .executeTakeFirst();
    // Lost a race with a concurrent insert of the same address: read the winner.
    return (
      inserted ??
      trx.selectFrom('subscribers').selectAll().where(column, '=', key).executeTakeFirstOrThrow()
    );
  }

  async recordConsent(
    trx: Executor,
    event: {
      subscriberId: string;
      kind: ConsentKind;
      channel: Channel;
      source: string;
      textVersion?: string | null;
      /** The campaign the words named, and the words exactly as shown. */
      campaignId?: string | null;
      text?: string | null;
      /** What the person wrote, for a keyword texted to us. */
      words?: string | null;
      ip?: string | null;
      userAgent?: string | null;
      /** A clinic's attestation: the clinic, how and when the person agreed, who took it. */
      clinicId?: string | null;
      method?: string | null;
      obtainedAt?: Date | null;
      collectedBy?: string | null;
    },
  ): Promise<void> {
    await trx.insertInto('consent_events').values(this.consentRow(event)).execute();
  }

  private consentRow(event: Parameters<SubscribersRepository['recordConsent']>[1]) {
    return {
      created_at: this.clock.now(),
      subscriber_id: event.subscriberId,
      kind: event.kind,
      channel: event.channel,
      source: event.source,
      text_version: event.textVersion ?? null,
      campaign_id: event.campaignId ?? null,
      text: event.text ?? null,
      words: event.words ?? null,
      ip: event.ip ?? null,
      user_agent: event.userAgent ?? null,
      clinic_id: event.clinicId ?? null,
      method: event.method ?? null,
      obtained_at: event.obtainedAt ?? null,
      collected_by: event.collectedBy ?? null,
    };
  }

  findBy(
    column: 'email' | 'phone',
    value: string,
    trx: Executor = this.db,
  ): Promise<Subscriber | undefined> {
    return trx.selectFrom('subscribers').selectAll().where(column, '=', value).executeTakeFirst();
  }

  findById(id: string, trx: Executor = this.db): Promise<Subscriber | undefined> {
    return trx.selectFrom('subscribers').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async unsuppress(address: string, trx: Executor = this.db): Promise<boolean> {
    const r = await trx
      .deleteFrom('suppressions')
      .where('address', '=', address)
      .executeTakeFirst();
    return r.numDeletedRows > 0n;
  }

  /**
   * The kind of the newest consent event of one clinic's on a channel for this person: a
   * 'withdrawn' one means they unsubscribed from that clinic's programme.
   */
  async lastClinicConsent(
    trx: Executor,
    subscriberId: string,
    clinicId: string,
    channel: Channel,
  ): Promise<ConsentKind | undefined> {
    const row = await trx
      .selectFrom('consent_events')
      .select('kind')
      .where('subscriber_id', '=', subscriberId)
      .where('clinic_id', '=', clinicId)
      .where('channel', '=', channel)
      .orderBy('created_at', 'desc')
      // Two events in the same millisecond: the opt-out wins, on the safe side.
      .orderBy(sql`kind = 'withdrawn'`, 'desc')
      .limit(1)
      .executeTakeFirst();
    return row?.kind;
  }

  consentEvents(subscriberId: string) {
    return this.db
      .selectFrom('consent_events')
      .selectAll()
      .where('subscriber_id', '=', subscriberId)
      .orderBy('created_at')
      .execute();
  }

  suppressionsOf(addresses: string[]) {
    if (addresses.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('suppressions')
      .selectAll()
      .where('address', 'in', addresses)
      .execute();
  }

  async isSuppressed(address: string, trx: Executor = this.db): Promise<boolean> {
    const row = await trx
      .selectFrom('suppressions')
      .select('address')
      .where('address', '=', address)
      .executeTakeFirst();
    return row !== undefined;
  }

  async suppress(
    address: string,
    channel: Channel,
    reason: string,
    trx: Executor = this.db,
  ): Promise<void> {
    await trx
      .insertInto('suppressions')
      .values({ address, channel, reason, created_at: this.clock.now() })
      .onConflict((oc) => oc.column('address').doNothing())
      .execute();
  }

  /**
   * Makes the row holding `address` (created when missing, with no enrolment) part of this
   * subscriber's person. Used when a clinic or operator enrols someone with both an email
   * address and a phone number: a warning sign sent from either then holds both.
   */
  /**
   * A clinic or operator vouches that both addresses are this person's: links the one the
   * enrolment does not use, so a warning sign sent from either holds the tips on both.
   */
  async linkOtherAddress(
    trx: Executor,
    subscriber: Subscriber,
    contact: { email: string | null; phone: string | null },
    channel: Channel,
  ): Promise<void> {
    const other = channel === 'email' ? contact.phone : contact.email;
    if (other)
      await this.linkAddress(trx, subscriber, channel === 'email' ? 'phone' : 'email', other);
  }

  async linkAddress(
    trx: Executor,
    subscriber: Subscriber,
    column: 'email' | 'phone',
    address: string,
  ): Promise<void> {
    if (subscriber[column] === address) return;
    const other = await trx
      .selectFrom('subscribers')
      .select(['id', 'person_id'])
      .where(column, '=', address)
      .forUpdate()
      .executeTakeFirst();
    if (!other) {
      await trx
        .insertInto('subscribers')
        .values({
          created_at: this.clock.now(),
          updated_at: this.clock.now(),
          email: column === 'email' ? address : null,
          phone: column === 'phone' ? address : null,
          name: subscriber.name,
          person_id: subscriber.person_id,
        })
        .onConflict((oc) => oc.column(column).where(column, 'is not', null).doNothing())
        .execute();
      return;
    }
    if (other.person_id === subscriber.person_id) return;
    // Everyone already linked to the other row joins this person too.
    await trx
      .updateTable('subscribers')
      .set({ person_id: subscriber.person_id, updated_at: this.clock.now() })
      .where('person_id', '=', other.person_id)
      .execute();
  }

  /**
   * Batch reads and writes for the CSV import (ClinicEnrollmentsService.enrolManyIn): each is
   * one statement for a whole batch of rows, and each does what the one-row method above it
   * does for every row.
   */

  /** The subscribers holding any of these addresses, locked as findOrCreate locks one. */
  lockByAddresses(trx: Executor, emails: string[], phones: string[]): Promise<Subscriber[]> {
    if (emails.length === 0 && phones.length === 0) return Promise.resolve([]);
    return trx
      .selectFrom('subscribers')
      .selectAll()
      .where((eb) =>
        eb.or([
          ...(emails.length > 0 ? [eb('email', 'in', emails)] : []),
          ...(phones.length > 0 ? [eb('phone', 'in', phones)] : []),
        ]),
      )
      .orderBy('id')
      .forUpdate()
      .execute();
  }

  /** The addresses among these that opted out of everything (isSuppressed for many). */
  async suppressedAmong(trx: Executor, addresses: string[]): Promise<Set<string>> {
    if (addresses.length === 0) return new Set();
    const rows = await trx
      .selectFrom('suppressions')
      .select('address')
      .where('address', 'in', addresses)
      .execute();
    return new Set(rows.map((r) => r.address));
  }

  /**
   * lastClinicConsent for many: `${subscriberId}|${channel}` of each pair whose newest event
   * of this clinic's is 'withdrawn' (same order and tie rule as the one-row read).
   */
  async withdrawnFromClinic(
    trx: Executor,
    pairs: { subscriberId: string; channel: Channel }[],
    clinicId: string,
  ): Promise<Set<string>> {
    if (pairs.length === 0) return new Set();
    const rows = await sql<{ subscriber_id: string; channel: string; kind: ConsentKind }>`
      SELECT DISTINCT ON (c.subscriber_id, c.channel) c.subscriber_id, c.channel, c.kind
      FROM consent_events c
      JOIN unnest(${pairs.map((p) => p.subscriberId)}::uuid[], ${pairs.map((p) => p.channel)}::text[])
        AS q(subscriber_id, channel)
        ON c.subscriber_id = q.subscriber_id AND c.channel = q.channel
      WHERE c.clinic_id = ${clinicId}
      ORDER BY c.subscriber_id, c.channel, c.created_at DESC, (c.kind = 'withdrawn') DESC`.execute(
      trx,
    );
    return new Set(
      rows.rows.filter((r) => r.kind === 'withdrawn').map((r) => `${r.subscriber_id}|${r.channel}`),
    );
  }

  /**
   * New subscribers (findOrCreate's insert, or linkAddress's with `person_id`), skipping any
   * whose address a concurrent transaction took: the caller compares the count.
   */
  createMany(
    trx: Executor,
    rows: {
      email: string | null;
      phone: string | null;
      name: string | null;
      person_id?: string;
    }[],
  ): Promise<Subscriber[]> {
    if (rows.length === 0) return Promise.resolve([]);
    const now = this.clock.now();
    return trx
      .insertInto('subscribers')
      .values(rows.map((r) => ({ created_at: now, updated_at: now, ...r })))
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .execute();
  }

  /** findOrCreate's change of name, for many. */
  async renameMany(trx: Executor, rows: { id: string; name: string }[]): Promise<Subscriber[]> {
    if (rows.length === 0) return [];
    const r = await sql<Subscriber>`
      UPDATE subscribers s SET name = u.name, updated_at = ${this.clock.now()}
      FROM unnest(${rows.map((x) => x.id)}::uuid[], ${rows.map((x) => x.name)}::text[]) AS u(id, name)
      WHERE s.id = u.id
      RETURNING s.*`.execute(trx);
    return r.rows;
  }

  /** linkAddress's merge for many: everyone in person `from` joins person `to`. */
  async mergePersons(trx: Executor, merges: { from: string; to: string }[]): Promise<void> {
    if (merges.length === 0) return;
    await sql`
      UPDATE subscribers s SET person_id = m.to_person, updated_at = ${this.clock.now()}
      FROM unnest(${merges.map((m) => m.from)}::uuid[], ${merges.map((m) => m.to)}::uuid[])
        AS m(from_person, to_person)
      WHERE s.person_id = m.from_person`.execute(trx);
  }

  /** The ones among these subscribers whose person is on a safety hold (holdOf for many). */
  async heldAmong(trx: Executor, subscriberIds: string[]): Promise<Set<string>> {
    if (subscriberIds.length === 0) return new Set();
    const rows = await trx
      .selectFrom('safety_holds as h')
      .innerJoin('subscribers as s', 's.person_id', 'h.person_id')
      .select('s.id')
      .where('s.id', 'in', subscriberIds)
      .execute();
    return new Set(rows.map((r) => r.id));
  }

  /** recordConsent for many, in one statement. */
  async recordConsents(
    trx: Executor,
    events: Parameters<SubscribersRepository['recordConsent']>[1][],
  ): Promise<void> {
    if (events.length === 0) return;
    await trx
      .insertInto('consent_events')
      .values(events.map((e) => this.consentRow(e)))
      .execute();
  }

  /** The rows of the person this subscriber belongs to (at least the subscriber itself). */
  samePerson(subscriberId: string, trx: Executor = this.db): Promise<Subscriber[]> {
    return trx
      .selectFrom('subscribers')
      .selectAll()
      .where(
        'person_id',
        '=',
        trx.selectFrom('subscribers as s').select('s.person_id').where('s.id', '=', subscriberId),
      )
      .execute();
  }

  /**
   * Data rights: the rows of this subscriber's person, locked for the erasure under way (a
   * signup of the same address waits for it, then finds the suppression).
   */
  lockPerson(trx: Executor, subscriberId: string): Promise<Subscriber[]> {
    return trx
      .selectFrom('subscribers')
      .selectAll()
      .where(
        'person_id',
        '=',
        trx.selectFrom('subscribers as s').select('s.person_id').where('s.id', '=', subscriberId),
      )
      .orderBy('id')
      .forUpdate()
      .execute();
  }

  /** Data rights: every consent event of these rows, oldest first. */
  consentEventsOf(subscriberIds: string[]) {
    if (subscriberIds.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('consent_events')
      .selectAll()
      .where('subscriber_id', 'in', subscriberIds)
      .orderBy('created_at')
      .execute();
  }

  /** Data rights: one clinic's consent events of these rows (its attestations, its opt-outs). */
  async deleteClinicConsent(trx: Executor, subscriberIds: string[], clinicId: string) {
    if (subscriberIds.length === 0) return;
    await trx
      .deleteFrom('consent_events')
      .where('subscriber_id', 'in', subscriberIds)
      .where('clinic_id', '=', clinicId)
      .execute();
  }

  /** Data rights: the safety hold and the safety events of a person. */
  async safetyRecordsOf(personId: string) {
    const [hold, events] = await Promise.all([
      this.db
        .selectFrom('safety_holds')
        .selectAll()
        .where('person_id', '=', personId)
        .executeTakeFirst(),
      this.db
        .selectFrom('safety_events')
        .selectAll()
        .where('person_id', '=', personId)
        .orderBy('created_at')
        .execute(),
    ]);
    return { hold, events };
  }

  /**
   * Data rights: deletes the rows of a person and what hangs on them (enrolments and their
   * deliveries, consent events, pain scores and triage items go by foreign key cascade), and
   * their safety records, which have no foreign key. Suppressions are kept: they are keyed
   * by address, not by row.
   */
  async deletePerson(trx: Executor, personId: string): Promise<number> {
    await trx.deleteFrom('safety_holds').where('person_id', '=', personId).execute();
    await trx.deleteFrom('safety_events').where('person_id', '=', personId).execute();
    const gone = await trx
      .deleteFrom('subscribers')
      .where('person_id', '=', personId)
      .executeTakeFirst();
    return Number(gone.numDeletedRows);
  }

  /** The safety hold on this subscriber's person, if there is one. */
  holdOf(subscriberId: string, trx: Executor = this.db) {
    return trx
      .selectFrom('safety_holds as h')
      .innerJoin('subscribers as s', 's.person_id', 'h.person_id')
      .select(['h.person_id', 'h.signs', 'h.created_at', 'h.inbound_message_id'])
      .where('s.id', '=', subscriberId)
      .executeTakeFirst();
  }
}

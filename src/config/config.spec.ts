import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig, runsApi, runsScheduler, runsWorker } from './config.js';

const SECRET = 'a-real-looking-app-secret-0123456789abcdef';
const ADMIN = 'admin-token-0123456789';
const SID = `AC${'0123456789abcdef'.repeat(2)}`;
const AUTH = 'twilio-auth-token-value-9f8e7d6c';

/** The ConfigError thrown for `env`; fails the test when loadConfig accepts it. */
function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toBeInstanceOf(Error);
    return err as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(Object.keys(env))}`);
}

describe('loadConfig defaults', () => {
  it('runs with an empty environment using development defaults', () => {
    const c = loadConfig({});
    expect(c.env).toBe('development');
    expect(c.role).toBe('all');
    expect(c.port).toBe(3000);
    expect(c.databaseUrl).toBe('postgres://postgres@127.0.0.1:5432/selfcare_drip');
    expect(c.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(c.queuePrefix).toBe('sd');
    expect(c.publicUrl).toBe('http://localhost:3000');
    expect(c.appSecret.length).toBeGreaterThanOrEqual(32);
    expect(c.adminToken).toBeUndefined();
    expect(c.smtpUrl).toBeUndefined();
    expect(c.mailFrom).toBe('Selfcare Drip <tips@localhost>');
    expect(c.twilio).toBeUndefined();
    expect(c.templatesDir).toBe('./templates');
    expect(c.outboxDir).toBe('./var/outbox');
    expect(c.sender).toEqual({
      name: 'Selfcare Drip',
      address: '1 Example Street, Springfield',
      contactEmail: 'tips@localhost',
    });
    expect(c.emergencyNumber).toBe('911');
    expect(c.scheduler).toEqual({ intervalMs: 2000, batchSize: 5000 });
    expect(c.email).toEqual({ concurrency: 20, ratePerSecond: 100 });
    expect(c.sms).toEqual({ concurrency: 10, ratePerSecond: 10 });
    expect(c.sendAttempts).toBe(6);
    expect(c.logLevel).toBe('info');
  });

  it('reads numbers from strings and uses the port in the default public URL', () => {
    const c = loadConfig({
      PORT: '8080',
      SCHEDULER_INTERVAL_MS: '500',
      SEND_ATTEMPTS: '3',
      SMS_RATE_PER_SECOND: '1',
    });
    expect(c.port).toBe(8080);
    expect(c.publicUrl).toBe('http://localhost:8080');
    expect(c.scheduler.intervalMs).toBe(500);
    expect(c.sendAttempts).toBe(3);
    expect(c.sms.ratePerSecond).toBe(1);
  });

  it('takes explicit values over the defaults', () => {
    const c = loadConfig({
      NODE_ENV: 'test',
      ROLE: 'worker',
      DATABASE_URL: 'postgresql://u:p@db:5432/x',
      REDIS_URL: 'rediss://cache:6380',
      QUEUE_PREFIX: '{drip}',
      APP_SECRET: SECRET,
      ADMIN_TOKEN: ADMIN,
      SMTP_URL: 'smtps://mail.example:465',
      SENDER_NAME: 'Clinic',
      LOG_LEVEL: 'debug',
    });
    expect(c.env).toBe('test');
    expect(c.role).toBe('worker');
    expect(c.databaseUrl).toBe('postgresql://u:p@db:5432/x');
    expect(c.redisUrl).toBe('rediss://cache:6380');
    expect(c.queuePrefix).toBe('{drip}');
    expect(c.appSecret).toBe(SECRET);
    expect(c.adminToken).toBe(ADMIN);
    expect(c.smtpUrl).toBe('smtps://mail.example:465');
    expect(c.sender.name).toBe('Clinic');
    expect(c.logLevel).toBe('debug');
  });

  it('builds the Twilio settings only when all three are set', () => {
    const c = loadConfig({
      TWILIO_ACCOUNT_SID: SID,
      TWILIO_AUTH_TOKEN: AUTH,
      TWILIO_FROM: '+15550100199',
    });
    expect(c.twilio).toEqual({
      accountSid: SID,
      authToken: AUTH,
      from: '+15550100199',
      apiUrl: undefined,
    });
    const mg = `MG${'a'.repeat(32)}`;
    const withApi = loadConfig({
      TWILIO_ACCOUNT_SID: SID,
      TWILIO_AUTH_TOKEN: AUTH,
      TWILIO_FROM: mg,
      TWILIO_API_URL: 'http://127.0.0.1:4010',
    });
    expect(withApi.twilio).toEqual({
      accountSid: SID,
      authToken: AUTH,
      from: mg,
      apiUrl: 'http://127.0.0.1:4010',
    });
  });

  it.each([
    ['https://drip.example.com/', 'https://drip.example.com'],
    ['https://drip.example.com///', 'https://drip.example.com'],
    ['https://drip.example.com/app/', 'https://drip.example.com/app'],
    ['http://localhost:3000', 'http://localhost:3000'],
  ])('strips the trailing slash from PUBLIC_URL %s', (value, expected) => {
    expect(loadConfig({ PUBLIC_URL: value }).publicUrl).toBe(expected);
  });

  it('accepts a production environment with every required setting', () => {
    const c = loadConfig({
      NODE_ENV: 'production',
      APP_SECRET: SECRET,
      ADMIN_TOKEN: ADMIN,
      PUBLIC_URL: 'https://drip.example/',
    });
    expect(c.env).toBe('production');
    expect(c.appSecret).toBe(SECRET);
    expect(c.publicUrl).toBe('https://drip.example');
  });

  it('refuses webhooks to private networks in production unless told, and allows them elsewhere', () => {
    const prod = {
      NODE_ENV: 'production',
      APP_SECRET: SECRET,
      ADMIN_TOKEN: ADMIN,
      PUBLIC_URL: 'https://d.example',
    };
    expect(loadConfig(prod).webhooks).toEqual({
      allowPrivate: false,
      timeoutMs: 10_000,
      pollMs: 1_000,
    });
    expect(loadConfig({ ...prod, WEBHOOKS_ALLOW_PRIVATE: 'true' }).webhooks.allowPrivate).toBe(
      true,
    );
    expect(loadConfig({}).webhooks.allowPrivate).toBe(true);
    expect(loadConfig({ WEBHOOKS_ALLOW_PRIVATE: 'false' }).webhooks.allowPrivate).toBe(false);
    expect(() => loadConfig({ WEBHOOKS_ALLOW_PRIVATE: 'yes' })).toThrow(
      /WEBHOOKS_ALLOW_PRIVATE must be true or false/,
    );
    expect(() => loadConfig({ WEBHOOK_TIMEOUT_MS: '100' })).toThrow(/WEBHOOK_TIMEOUT_MS/);
  });

  it('tells each role which parts to run', () => {
    expect([runsApi('api'), runsWorker('api'), runsScheduler('api')]).toEqual([true, false, false]);
    expect([runsApi('worker'), runsWorker('worker'), runsScheduler('worker')]).toEqual([
      false,
      true,
      false,
    ]);
    expect([runsApi('scheduler'), runsWorker('scheduler'), runsScheduler('scheduler')]).toEqual([
      false,
      false,
      true,
    ]);
    expect([runsApi('all'), runsWorker('all'), runsScheduler('all')]).toEqual([true, true, true]);
  });
});

describe('empty optional settings', () => {
  it('treats empty and blank strings as unset', () => {
    const c = loadConfig({
      SMTP_URL: '',
      TWILIO_ACCOUNT_SID: '',
      TWILIO_AUTH_TOKEN: '  ',
      TWILIO_FROM: '',
      TWILIO_API_URL: '',
      PUBLIC_URL: '',
      APP_SECRET: '',
      ADMIN_TOKEN: '',
      PORT: '',
    });
    expect(c.smtpUrl).toBeUndefined();
    expect(c.twilio).toBeUndefined();
    expect(c.adminToken).toBeUndefined();
    expect(c.port).toBe(3000);
    expect(c.publicUrl).toBe('http://localhost:3000');
    expect(c.appSecret).toBe(loadConfig({}).appSecret);
  });

  it('still requires the production settings when they are set to empty strings', () => {
    const err = configError({
      NODE_ENV: 'production',
      APP_SECRET: '',
      ADMIN_TOKEN: ADMIN,
      PUBLIC_URL: 'https://drip.example',
    });
    expect(err.message).toContain('APP_SECRET');
    expect(err.message).toMatch(/required/);
  });
});

describe('bad values stop start-up naming the variable', () => {
  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['DATABASE_URL', 'mysql://root@localhost/db'],
    ['DATABASE_URL', 'not a url'],
    ['REDIS_URL', 'http://cache:6379'],
    ['NODE_ENV', 'staging'],
    ['ROLE', 'web'],
    ['QUEUE_PREFIX', 'sd:prod'],
    ['PUBLIC_URL', 'ftp://drip.example'],
    ['SMTP_URL', 'http://mail.example'],
    ['TWILIO_API_URL', 'ws://twilio.example'],
    ['SCHEDULER_INTERVAL_MS', '10'],
    ['SEND_ATTEMPTS', '0'],
    ['LOG_LEVEL', 'verbose'],
    ['SENDER_CONTACT_EMAIL', 'privacy at clinic'],
    ['EMERGENCY_NUMBER', '+1 555 010 0199'],
    ['EMERGENCY_NUMBER', 'nine-one-one'],
  ])('%s=%s', (name, value) => {
    const err = configError({ [name]: value });
    expect(err.message).toContain(name);
    expect(err.message).toMatch(/^Invalid configuration: /);
  });

  it('says which URL schemes DATABASE_URL takes', () => {
    expect(configError({ DATABASE_URL: 'mysql://root@localhost/db' }).message).toMatch(
      /DATABASE_URL.*postgres:\/\/.*postgresql:\/\//,
    );
  });

  it('rejects an APP_SECRET shorter than 32 characters without echoing it', () => {
    const bad = 'too-short-secret-hunter2-xyz';
    const err = configError({ APP_SECRET: bad });
    expect(err.message).toContain('APP_SECRET');
    expect(err.message).toContain('32');
    expect(err.message).not.toContain(bad);
    expect(loadConfig({ APP_SECRET: 'x'.repeat(32) }).appSecret).toBe('x'.repeat(32));
    expect(configError({ APP_SECRET: 'x'.repeat(31) }).message).toContain('APP_SECRET');
  });

  it('rejects a short ADMIN_TOKEN without echoing it', () => {
    const err = configError({ ADMIN_TOKEN: 'tiny-tok3n' });
    expect(err.message).toContain('ADMIN_TOKEN');
    expect(err.message).not.toContain('tiny-tok3n');
  });

  it('names every missing Twilio setting when only some are set', () => {
    const onlySid = configError({ TWILIO_ACCOUNT_SID: SID }).message;
    expect(onlySid).toContain('TWILIO_AUTH_TOKEN');
    expect(onlySid).toContain('TWILIO_FROM');
    expect(onlySid).not.toContain('TWILIO_ACCOUNT_SID');

    const onlyToken = configError({ TWILIO_AUTH_TOKEN: AUTH }).message;
    expect(onlyToken).toContain('TWILIO_ACCOUNT_SID');
    expect(onlyToken).toContain('TWILIO_FROM');
    expect(onlyToken).not.toContain(AUTH);

    const noFrom = configError({ TWILIO_ACCOUNT_SID: SID, TWILIO_AUTH_TOKEN: AUTH }).message;
    expect(noFrom).toContain('TWILIO_FROM');
    expect(noFrom).not.toContain('TWILIO_AUTH_TOKEN');
    expect(noFrom).not.toContain(AUTH);
  });

  it.each(['07700900123', '+0123456789', '15550100199', 'MGnothex', '+1 555 010 0199'])(
    'rejects TWILIO_FROM=%s',
    (from) => {
      const err = configError({
        TWILIO_ACCOUNT_SID: SID,
        TWILIO_AUTH_TOKEN: AUTH,
        TWILIO_FROM: from,
      });
      expect(err.message).toContain('TWILIO_FROM');
      expect(err.message).not.toContain(AUTH);
    },
  );

  it('rejects a malformed TWILIO_ACCOUNT_SID', () => {
    const err = configError({
      TWILIO_ACCOUNT_SID: 'AC123',
      TWILIO_AUTH_TOKEN: AUTH,
      TWILIO_FROM: '+15550100199',
    });
    expect(err.message).toContain('TWILIO_ACCOUNT_SID');
    expect(err.message).not.toContain(AUTH);
  });

  it.each(['APP_SECRET', 'ADMIN_TOKEN', 'PUBLIC_URL'] as const)(
    'requires %s when NODE_ENV=production',
    (missing) => {
      const env: Record<string, string> = {
        NODE_ENV: 'production',
        APP_SECRET: SECRET,
        ADMIN_TOKEN: ADMIN,
        PUBLIC_URL: 'https://drip.example',
      };
      delete env[missing];
      const err = configError(env);
      expect(err.message).toContain(missing);
      expect(err.message).toContain('production');
      expect(err.message).not.toContain(SECRET);
      expect(err.message).not.toContain(ADMIN);
    },
  );

  it.each([
    ['APP_SECRET', 'change-me-to-at-least-32-random-characters'], // the old docker-compose value
    ['ADMIN_TOKEN', 'change-me-admin-token'],
    ['APP_SECRET', 'please-CHANGE_ME-0123456789abcdef0123456789'],
    ['ADMIN_TOKEN', 'changeme-changeme-changeme'],
  ] as const)(
    'refuses a placeholder %s in production, naming it without echoing it',
    (key, value) => {
      const env: Record<string, string> = {
        NODE_ENV: 'production',
        APP_SECRET: SECRET,
        ADMIN_TOKEN: ADMIN,
        PUBLIC_URL: 'https://drip.example',
        [key]: value,
      };
      const err = configError(env);
      expect(err.message).toMatch(new RegExp(`^Invalid configuration: ${key} is a placeholder`));
      expect(err.message).toContain('change-me');
      expect(err.message).not.toContain(value);
      expect(err.message.split('\n')).toHaveLength(1);
      // Only that variable is named.
      const other = key === 'APP_SECRET' ? 'ADMIN_TOKEN' : 'APP_SECRET';
      expect(err.message).not.toContain(other);
    },
  );

  it('names both secrets when both are placeholders', () => {
    const err = configError({
      NODE_ENV: 'production',
      APP_SECRET: 'change-me-to-at-least-32-random-characters',
      ADMIN_TOKEN: 'change-me-admin-token',
      PUBLIC_URL: 'https://drip.example',
    });
    expect(err.message).toContain('APP_SECRET is a placeholder');
    expect(err.message).toContain('ADMIN_TOKEN is a placeholder');
  });

  it('allows placeholder secrets outside production (the development default is one)', () => {
    const c = loadConfig({
      NODE_ENV: 'development',
      APP_SECRET: 'change-me-to-at-least-32-random-characters',
      ADMIN_TOKEN: 'change-me-admin-token',
    });
    expect(c.adminToken).toBe('change-me-admin-token');
    expect(loadConfig({}).appSecret).toMatch(/change-me/);
  });

  it('names all three production settings when none is set', () => {
    const err = configError({ NODE_ENV: 'production' });
    for (const name of ['APP_SECRET', 'ADMIN_TOKEN', 'PUBLIC_URL'])
      expect(err.message).toContain(name);
  });

  it('never puts secrets from the environment into the message of another error', () => {
    const err = configError({
      APP_SECRET: SECRET,
      ADMIN_TOKEN: ADMIN,
      TWILIO_AUTH_TOKEN: AUTH,
      PORT: 'nope',
    });
    for (const secret of [SECRET, ADMIN, AUTH]) expect(err.message).not.toContain(secret);
    expect(err.message).toContain('PORT');
  });
});

describe('who sends the messages and answers for the data', () => {
  it('never repeats the sender name in front of the address', () => {
    // The old default address began with the name, and messages print "name, address".
    for (const address of [
      'Selfcare Drip, 1 Example Street, Springfield',
      'selfcare drip; 1 Example Street, Springfield',
      '1 Example Street, Springfield',
    ]) {
      const c = loadConfig({ SENDER_NAME: 'Selfcare Drip', SENDER_ADDRESS: address });
      expect(c.sender.address).toBe('1 Example Street, Springfield');
    }
    // A name that only starts like the sender's is part of the address.
    const longer = loadConfig({ SENDER_NAME: 'Acme', SENDER_ADDRESS: 'Acme Tower, 2 High St' });
    expect(longer.sender.address).toBe('Acme Tower, 2 High St');
  });

  it('takes the contact email from SENDER_CONTACT_EMAIL, else MAIL_REPLY_TO, else MAIL_FROM', () => {
    const from = { MAIL_FROM: 'Riverside Tips <tips@riverside.example>' };
    expect(loadConfig(from).sender.contactEmail).toBe('tips@riverside.example');
    expect(
      loadConfig({ ...from, MAIL_REPLY_TO: 'desk@riverside.example' }).sender.contactEmail,
    ).toBe('desk@riverside.example');
    expect(
      loadConfig({
        ...from,
        MAIL_REPLY_TO: 'desk@riverside.example',
        SENDER_CONTACT_EMAIL: 'privacy@riverside.example',
      }).sender.contactEmail,
    ).toBe('privacy@riverside.example');
  });

  it('reads the emergency number for the call button', () => {
    expect(loadConfig({ EMERGENCY_NUMBER: '999' }).emergencyNumber).toBe('999');
  });
});

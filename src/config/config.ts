import { isIP } from 'node:net';
import { getCountries, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { z } from 'zod';

export const ROLES = ['api', 'worker', 'scheduler', 'all'] as const;
export type Role = (typeof ROLES)[number];

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const url = (protocols: string[]) =>
  z
    .string()
    .trim()
    .refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
    );

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const DEV_SECRET = 'dev-only-secret-change-me-dev-only-secret';
/** Example values ("change-me", "changeme", "CHANGE_ME"...), refused in production. */
const PLACEHOLDER = /change[-_ ]?me/i;

const schema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    ROLE: z.enum(ROLES).default('all'),
    PORT: int(0, 65535).default(3000),
    DATABASE_URL: url(['postgres:', 'postgresql:']).default(
      'postgres://postgres@127.0.0.1:5432/selfcare_drip',
    ),
    REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
    QUEUE_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_{}-]+$/, 'may hold only letters, digits, _, -, { and }')
      .default('sd'),
    PUBLIC_URL: url(['http:', 'https:']).optional(),
    APP_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    SMTP_URL: optionalString.pipe(url(['smtp:', 'smtps:']).optional()),
    MAIL_FROM: z.string().default('Selfcare Drip <tips@localhost>'),
    MAIL_REPLY_TO: optionalString.pipe(z.email('must be an email address').optional()),
    TWILIO_ACCOUNT_SID: optionalString.pipe(
      z
        .string()
        .regex(/^AC[0-9a-fA-F]{32}$/, 'must look like AC followed by 32 hex digits')
        .optional(),
    ),
    TWILIO_AUTH_TOKEN: optionalString,
    TWILIO_FROM: optionalString.pipe(
      z
        .string()
        .regex(
          /^(\+[1-9]\d{6,14}|MG[0-9a-fA-F]{32})$/,
          'must be an E.164 number or a messaging service sid (MG...)',
        )
        .optional(),
    ),
    TWILIO_API_URL: optionalString.pipe(url(['http:', 'https:']).optional()),
    TEMPLATES_DIR: z.string().default('./templates'),
    OUTBOX_DIR: z.string().default('./var/outbox'),
    SENDER_NAME: z.string().default('Selfcare Drip'),
    SENDER_ADDRESS: z.string().default('1 Example Street, Springfield'),
    SENDER_CONTACT_EMAIL: optionalString.pipe(z.email('must be an email address').optional()),
    EMERGENCY_NUMBER: z
      .string()
      .trim()
      .regex(
        /^\d{2,6}$/,
        'must be the short number dialled for an emergency, such as 911, 999 or 112',
      )
      .default('911'),
    SCHEDULER_INTERVAL_MS: int(200, 600_000).default(2000),
    // Enrolments one scheduler transaction claims. Its statements pass arrays (unnest), so
    // the size is not bound by PostgreSQL's 65,535 parameters; larger batches amortise each
    // transaction's fixed costs, smaller ones hold their row locks for less time.
    SCHEDULER_BATCH: int(1, 50_000).default(5000),
    EMAIL_CONCURRENCY: int(1, 500).default(20),
    SMS_CONCURRENCY: int(1, 500).default(10),
    SMS_RATE_PER_SECOND: int(1, 100_000).default(10),
    EMAIL_RATE_PER_SECOND: int(1, 100_000).default(100),
    SEND_ATTEMPTS: int(1, 50).default(6),
    SIGNUP_RATE_PER_MINUTE: int(1, 100_000).default(10),
    // Behind a load balancer: how many proxies to trust, or which (IPs and CIDRs). Off by default.
    TRUST_PROXY: z
      .string()
      .trim()
      .refine(
        (v) => parseTrustProxy(v) !== null,
        'must be "false", a number of proxy hops such as 1, or a comma list of IP addresses and CIDRs such as 10.0.0.0/8,192.168.1.5',
      )
      .optional(),
    // Countries whose numbers may sign up by SMS (two-letter codes); default: the sender's.
    SMS_COUNTRIES: z
      .string()
      .trim()
      .transform((v) =>
        v
          .split(',')
          .map((c) => c.trim().toUpperCase())
          .filter(Boolean),
      )
      .refine(
        (list) => list.length > 0 && list.every((c) => KNOWN_COUNTRIES.has(c)),
        'must be a comma list of two-letter country codes such as US,CA',
      )
      .optional(),
    SMS_CONFIRMATIONS_PER_NUMBER_PER_DAY: int(1, 1_000).default(3),
    SMS_CONFIRMATIONS_PER_PREFIX_PER_HOUR: int(1, 100_000).default(20),
    SMS_CONFIRMATIONS_PER_HOUR: int(1, 1_000_000).default(300),
    SEND_BACKOFF_MS: int(10, 3_600_000).default(5000),
    // A provider call that takes longer than this is abandoned (its outcome is then unknown).
    SEND_TIMEOUT_MS: int(100, 300_000).default(20_000),
    // A claim is a lease: past it, the reconciler settles the attempt. Longer than any send.
    DELIVERY_LEASE_MS: int(1_000, 3_600_000).default(60_000),
    // A queued delivery untouched this long has its BullMQ job checked (and re-added if lost).
    JOB_CHECK_MS: int(1_000, 86_400_000).default(120_000),
    // How long an unknown outcome may stay unresolved (provider log unreachable) before it fails.
    UNRESOLVED_GIVE_UP_MS: int(1_000, 30 * 86_400_000).default(86_400_000),
    // A channel paused for a configuration fault is re-checked this often.
    CHANNEL_PROBE_MS: int(100, 3_600_000).default(30_000),
    // BullMQ job lock: a job whose worker died is picked up again after about this long.
    WORKER_LOCK_MS: int(1_000, 600_000).default(30_000),
    // Months after which replies, pain scores and the deliveries of ended enrolments are
    // purged (docs/data-rights.md). Unset: kept.
    RETENTION_MONTHS: int(1, 1_200).optional(),
    // Outbound webhooks (docs/webhooks.md). Private networks and http:// endpoints are
    // refused in production unless this is true; allowed by default elsewhere.
    WEBHOOKS_ALLOW_PRIVATE: z
      .enum(['true', 'false'], { message: 'must be true or false' })
      .transform((v) => v === 'true')
      .optional(),
    WEBHOOK_TIMEOUT_MS: int(500, 60_000).default(10_000),
    WEBHOOK_POLL_MS: int(50, 60_000).default(1_000),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
  })
  .superRefine((env, ctx) => {
    const twilio = [env.TWILIO_ACCOUNT_SID, env.TWILIO_AUTH_TOKEN, env.TWILIO_FROM];
    if (twilio.some(Boolean) && !twilio.every(Boolean)) {
      for (const key of ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM'] as const) {
        if (!env[key])
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: 'is required when any TWILIO_* setting is set',
          });
      }
    }
    if (env.DELIVERY_LEASE_MS < 2 * env.SEND_TIMEOUT_MS + 1_000) {
      ctx.addIssue({
        code: 'custom',
        path: ['DELIVERY_LEASE_MS'],
        message: `must be at least twice SEND_TIMEOUT_MS plus a second (${2 * env.SEND_TIMEOUT_MS + 1_000}), so that a send has surely ended when its lease does`,
      });
    }
    if (env.NODE_ENV === 'production') {
      for (const key of ['APP_SECRET', 'ADMIN_TOKEN', 'PUBLIC_URL'] as const) {
        if (!env[key])
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: 'is required when NODE_ENV=production',
          });
      }
      // A value copied from an example file is public: anyone could forge links or call the
      // admin API. (The message never repeats the value.)
      for (const key of ['APP_SECRET', 'ADMIN_TOKEN'] as const) {
        if (PLACEHOLDER.test(env[key] ?? ''))
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message:
              'is a placeholder (it contains "change-me"); set a random value when NODE_ENV=production (see README, Configuration)',
          });
      }
    }
  });

export interface AppConfig {
  env: 'development' | 'production' | 'test';
  role: Role;
  port: number;
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  publicUrl: string;
  appSecret: string;
  adminToken?: string;
  smtpUrl?: string;
  mailFrom: string;
  /** Where replies go; also offered as a mailto: unsubscribe. */
  mailReplyTo?: string;
  twilio?: { accountSid: string; authToken: string; from: string; apiUrl?: string };
  templatesDir: string;
  outboxDir: string;
  /**
   * Who sends the programme and answers for the data it keeps (the data controller):
   * `address` never repeats `name`; `contactEmail` is where people write about their data.
   */
  sender: { name: string; address: string; contactEmail: string };
  /** Dialled from the "get care now" page's call button. */
  emergencyNumber: string;
  scheduler: { intervalMs: number; batchSize: number };
  email: { concurrency: number; ratePerSecond: number };
  sms: { concurrency: number; ratePerSecond: number };
  sendAttempts: number;
  /** Signups one IP address may post per minute (counted in Redis, across instances). */
  signupRatePerMinute: number;
  /** Express's `trust proxy`: false, a hop count, or the trusted proxies' addresses. */
  trustProxy: false | number | string[];
  /** What a public SMS signup may make us text (SMS pumping). */
  smsGuard: {
    countries: CountryCode[];
    perNumberPerDay: number;
    perPrefixPerHour: number;
    globalPerHour: number;
  };
  /** First retry delay; each later one doubles. */
  sendBackoffMs: number;
  delivery: {
    sendTimeoutMs: number;
    leaseMs: number;
    jobCheckMs: number;
    unresolvedGiveUpMs: number;
    channelProbeMs: number;
    workerLockMs: number;
  };
  /** Purge personal data older than this many months (see RetentionService); undefined: keep. */
  retentionMonths?: number;
  /** Outbound webhooks: private networks allowed (dev/test), post timeout, idle poll. */
  webhooks: { allowPrivate: boolean; timeoutMs: number; pollMs: number };
  logLevel: string;
}

export class ConfigError extends Error {}

/** Parses the environment once. Throws a ConfigError whose message names every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  // An empty or blank value (e.g. `APP_SECRET=` in an env file) means "unset", for every setting.
  const set = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''),
  );
  const result = schema.safeParse(set);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${String(issue.path[0] ?? 'environment')} ${issue.message}`,
    );
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  const e = result.data;
  return {
    env: e.NODE_ENV,
    role: e.ROLE,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    queuePrefix: e.QUEUE_PREFIX,
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    appSecret: e.APP_SECRET ?? DEV_SECRET,
    adminToken: e.ADMIN_TOKEN,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    mailReplyTo: e.MAIL_REPLY_TO,
    twilio:
      e.TWILIO_ACCOUNT_SID && e.TWILIO_AUTH_TOKEN && e.TWILIO_FROM
        ? {
            accountSid: e.TWILIO_ACCOUNT_SID,
            authToken: e.TWILIO_AUTH_TOKEN,
            from: e.TWILIO_FROM,
            apiUrl: e.TWILIO_API_URL,
          }
        : undefined,
    templatesDir: e.TEMPLATES_DIR,
    outboxDir: e.OUTBOX_DIR,
    sender: {
      name: e.SENDER_NAME,
      address: withoutName(e.SENDER_ADDRESS, e.SENDER_NAME),
      contactEmail: e.SENDER_CONTACT_EMAIL ?? e.MAIL_REPLY_TO ?? addressOf(e.MAIL_FROM),
    },
    emergencyNumber: e.EMERGENCY_NUMBER,
    scheduler: { intervalMs: e.SCHEDULER_INTERVAL_MS, batchSize: e.SCHEDULER_BATCH },
    email: { concurrency: e.EMAIL_CONCURRENCY, ratePerSecond: e.EMAIL_RATE_PER_SECOND },
    sms: { concurrency: e.SMS_CONCURRENCY, ratePerSecond: e.SMS_RATE_PER_SECOND },
    sendAttempts: e.SEND_ATTEMPTS,
    signupRatePerMinute: e.SIGNUP_RATE_PER_MINUTE,
    trustProxy: parseTrustProxy(e.TRUST_PROXY ?? 'false')!,
    smsGuard: {
      countries: (e.SMS_COUNTRIES ?? [countryOf(e.TWILIO_FROM) ?? 'US']) as CountryCode[],
      perNumberPerDay: e.SMS_CONFIRMATIONS_PER_NUMBER_PER_DAY,
      perPrefixPerHour: e.SMS_CONFIRMATIONS_PER_PREFIX_PER_HOUR,
      globalPerHour: e.SMS_CONFIRMATIONS_PER_HOUR,
    },
    sendBackoffMs: e.SEND_BACKOFF_MS,
    delivery: {
      sendTimeoutMs: e.SEND_TIMEOUT_MS,
      leaseMs: e.DELIVERY_LEASE_MS,
      jobCheckMs: e.JOB_CHECK_MS,
      unresolvedGiveUpMs: e.UNRESOLVED_GIVE_UP_MS,
      channelProbeMs: e.CHANNEL_PROBE_MS,
      workerLockMs: e.WORKER_LOCK_MS,
    },
    retentionMonths: e.RETENTION_MONTHS,
    webhooks: {
      allowPrivate: e.WEBHOOKS_ALLOW_PRIVATE ?? e.NODE_ENV !== 'production',
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      pollMs: e.WEBHOOK_POLL_MS,
    },
    logLevel: e.LOG_LEVEL,
  };
}

/**
 * Messages print "name, address": an address that starts with the name (as the old default
 * did, and as people write it) would show the name twice.
 */
function withoutName(address: string, name: string): string {
  const a = address.trim();
  const n = name.trim();
  if (n && a.toLowerCase().startsWith(n.toLowerCase())) {
    const rest = a.slice(n.length).replace(/^\s*[,;]\s*/, '');
    if (rest !== a.slice(n.length)) return rest;
  }
  return a;
}

/** The bare address in `Name <address>`, or the whole value. */
function addressOf(mailbox: string): string {
  return (/<([^>]+)>/.exec(mailbox)?.[1] ?? mailbox).trim();
}

export const CONFIG = Symbol('CONFIG');
export const runsApi = (r: Role) => r === 'api' || r === 'all';
export const runsWorker = (r: Role) => r === 'worker' || r === 'all';
export const runsScheduler = (r: Role) => r === 'scheduler' || r === 'all';

const KNOWN_COUNTRIES = new Set<string>(getCountries());

/** The country of the sending number, whose people the service is set up to text. */
function countryOf(phone: string | undefined): CountryCode | undefined {
  return phone ? parsePhoneNumberFromString(phone)?.country : undefined;
}

/**
 * TRUST_PROXY as Express takes it: "false"/"0" → off, "2" → two hops, "10.0.0.0/8,::1" →
 * those proxies. Null when malformed.
 */
export function parseTrustProxy(value: string): false | number | string[] | null {
  const v = value.trim().toLowerCase();
  if (v === '' || v === 'false' || v === 'off' || v === '0') return false;
  if (/^\d+$/.test(v)) return Number(v) <= 10 ? Number(v) : null;
  const list = v.split(',').map((x) => x.trim());
  const valid = list.every((entry) => {
    const [ip, bits, extra] = entry.split('/');
    if (extra !== undefined || !ip) return false;
    const family = isIP(ip);
    if (family === 0) return false;
    if (bits === undefined) return true;
    const n = Number(bits);
    return /^\d+$/.test(bits) && n >= 0 && n <= (family === 4 ? 32 : 128);
  });
  return valid ? list : null;
}

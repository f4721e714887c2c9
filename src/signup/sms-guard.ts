import { createHmac } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { CONFIG, type AppConfig } from '../config/index.js';
import { Clock, invalid, TooManyRequests } from '../common/index.js';
import { QueuesService } from '../delivery/index.js';
import { MetricsService } from '../metrics/index.js';

export type SmsRefusal = 'number' | 'prefix' | 'hourly-cap';

/** Digits kept as a number's prefix: the country code and the first digits of the number. */
const PREFIX_DIGITS = 7;
const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * Guards the texts a public signup can make us send (SMS pumping: a hostile page makes its
 * visitors post signups for premium numbers, and we pay for every confirmation text):
 * a country allowlist, a daily limit per number, an hourly limit per number prefix, and a
 * global hourly cap that raises an alert. The counters live in Redis, so every instance
 * shares them; numbers are kept there only as keyed hashes.
 */
@Injectable()
export class SmsGuard {
  private readonly logger = new Logger(SmsGuard.name);

  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly queues: QueuesService,
    private readonly metrics: MetricsService,
    private readonly clock: Clock,
  ) {}

  /** 400 naming the field when the number is in a country we do not text. */
  checkCountry(phone: string): void {
    const allowed = this.config.smsGuard.countries;
    const country = parsePhoneNumberFromString(phone)?.country;
    if (country && allowed.includes(country)) return;
    throw invalid(
      'phone',
      `we can only text numbers in ${allowed.join(', ')}; sign up by email instead`,
    );
  }

  /**
   * Counts a confirmation text to `phone` and says whether it may go. Refusals are counted
   * too (a pumping page keeps posting); the first time the hourly cap is reached in an hour,
   * an alert is logged.
   */
  async admitConfirmation(phone: string): Promise<SmsRefusal | null> {
    const limits = this.config.smsGuard;
    const now = this.clock.now().getTime();
    const day = Math.floor(now / DAY_MS);
    const hour = Math.floor(now / HOUR_MS);
    const base = `${this.config.queuePrefix}:sms-guard`;
    const keys = {
      number: `${base}:number:${this.hash(phone)}:${day}`,
      prefix: `${base}:prefix:${phone.slice(0, PREFIX_DIGITS + 1)}:${hour}`,
      all: `${base}:all:${hour}`,
    };
    const redis = this.queues.connection;
    const replies = await redis
      .multi()
      .incr(keys.number)
      .pexpire(keys.number, DAY_MS + HOUR_MS)
      .incr(keys.prefix)
      .pexpire(keys.prefix, 2 * HOUR_MS)
      .incr(keys.all)
      .pexpire(keys.all, 2 * HOUR_MS)
      .exec();
    const count = (i: number) => Number(replies?.[i]?.[1] ?? 0);
    const [perNumber, perPrefix, all] = [count(0), count(2), count(4)];
    let refusal: SmsRefusal | null = null;
    if (all > limits.globalPerHour) refusal = 'hourly-cap';
    else if (perNumber > limits.perNumberPerDay) refusal = 'number';
    else if (perPrefix > limits.perPrefixPerHour) refusal = 'prefix';
    if (!refusal) return null;
    this.metrics.smsRefused(refusal);
    if (refusal === 'hourly-cap' && all === limits.globalPerHour + 1) {
      // Once an hour, not once a refusal: the log must stay readable during an attack.
      this.logger.error(
        { cap: limits.globalPerHour },
        'ALERT: confirmation texts reached the hourly cap; further SMS signups are refused ' +
          'this hour. A page may be pumping SMS through the signup form (see SMS_* settings).',
      );
    } else {
      this.logger.warn({ reason: refusal }, 'confirmation text refused by the SMS guard');
    }
    return refusal;
  }

  /** The answer for a refused signup: honest, the same for every number, nothing stored. */
  static refusalError(refusal: SmsRefusal): TooManyRequests {
    const problem =
      refusal === 'hourly-cap'
        ? 'we are not sending signup texts for a while; try again in an hour, or sign up by email'
        : 'too many signup texts to this number; try again tomorrow, or sign up by email';
    return new TooManyRequests(`phone: ${problem}`, {
      errors: [{ field: 'phone', message: problem }],
    });
  }

  private hash(phone: string): string {
    return createHmac('sha256', this.config.appSecret).update(phone).digest('hex').slice(0, 32);
  }
}

import {
  Inject,
  Module,
  RequestMethod,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { rateLimit } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import { CampaignsModule } from '../campaigns/index.js';
import { DependencyDownError } from '../common/index.js';
import { CONFIG, type AppConfig } from '../config/index.js';
import { DeliveryModule, promptly, QueuesService } from '../delivery/index.js';
import { EnrollmentsModule } from '../enrollments/index.js';
import { MetricsModule } from '../metrics/index.js';
import { SubscribersModule } from '../subscribers/index.js';
import { TokensModule } from '../tokens/index.js';
import { PagesService } from './pages.service.js';
import { PreferencesService } from './preferences.service.js';
import { tooManySignups } from './rate-limited.js';
import { SignupService } from './signup.service.js';
import { SmsGuard } from './sms-guard.js';

/**
 * Signup, double opt-in, unsubscribe and preferences, in every role, with the limit
 * on signups. The public pages are SignupPagesModule's, with the API only.
 */
@Module({
  imports: [
    CampaignsModule,
    DeliveryModule,
    EnrollmentsModule,
    MetricsModule,
    SubscribersModule,
    TokensModule,
  ],
  providers: [SignupService, PreferencesService, SmsGuard],
  exports: [SignupService, PreferencesService],
})
export class SignupModule implements NestModule {
  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly moduleRef: ModuleRef,
  ) {}

  /**
   * Per-IP limit on signups. express-rate-limit rather than @nestjs/throttler, whose
   * CommonJS build cannot load NestJS 12's ES modules under Jest. The counts live in Redis,
   * so the limit holds across instances; the client address is the one TRUST_PROXY lets
   * Express see (behind a load balancer, without it, everyone shares the balancer's).
   */
  configure(consumer: MiddlewareConsumer): void {
    const limiter = rateLimit({
      windowMs: 60_000,
      limit: this.config.signupRatePerMinute,
      standardHeaders: 'draft-7',
      legacyHeaders: false,
      store: this.redisStore(),
      // Redis unreachable: the error (a DependencyDownError) answers 503, as the signup would.
      passOnStoreError: false,
      handler: tooManySignups(() => this.pages()),
    });
    consumer
      .apply(limiter)
      .forRoutes(
        { path: 'subscriptions', method: RequestMethod.POST },
        { path: 'c/:slug', method: RequestMethod.POST },
      );
  }

  private redisStore(): RedisStore {
    const redis = this.moduleRef.get(QueuesService, { strict: false }).connection;
    let downUntil = 0;
    // A reconnection ends the fast-fail at once: a signup right after Redis comes back must
    // not be refused for an outage that is over.
    redis.on('ready', () => (downUntil = 0));
    const store = new RedisStore({
      prefix: `${this.config.queuePrefix}:signup-rate:`,
      // Bounded like every Redis call on a request's path: down or hanging, the signup gets
      // a 503 within about a second and a half, and nothing is stored. After a failure the store retries
      // once (reloading its script): that retry fails at once instead of waiting again.
      sendCommand: async (command: string, ...args: string[]) => {
        if (Date.now() < downUntil) throw new DependencyDownError('redis', 'not answering');
        try {
          return await promptly(redis, () => redis.call(command, ...args) as Promise<RedisReply>);
        } catch (err) {
          downUntil = Date.now() + 250;
          throw err;
        }
      },
    });
    // It loads its scripts at once; with Redis down that fails, and it loads them again on
    // first use. Handled here so that a start during an outage is not an unhandled rejection.
    store.incrementScriptSha.catch(() => undefined);
    store.getScriptSha.catch(() => undefined);
    return store;
  }

  private pages(): PagesService | undefined {
    try {
      return this.moduleRef.get(PagesService, { strict: false });
    } catch {
      return undefined;
    }
  }
}

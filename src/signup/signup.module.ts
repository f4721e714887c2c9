import {
  Global,
  Inject,
  Module,
  RequestMethod,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { rateLimit } from 'express-rate-limit';
import { CONFIG, type AppConfig } from '../config/index.js';
import { ConsentService } from './consent.service.js';
import { FaviconController } from './favicon.controller.js';
import { LinksController } from './links.controller.js';
import { PagesService } from './pages.service.js';
import { PreferencesService } from './preferences.service.js';
import { tooManySignups } from './rate-limited.js';
import { SignupController } from './signup.controller.js';
import { SignupService } from './signup.service.js';

/** Public signup, double opt-in, consent, unsubscribe and preferences. Pages only with the API. */
@Global()
@Module({})
export class SignupModule implements NestModule {
  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly moduleRef: ModuleRef,
  ) {}

  static forRoot(opts: { http: boolean }): DynamicModule {
    return {
      module: SignupModule,
      controllers: opts.http ? [SignupController, LinksController, FaviconController] : [],
      providers: [
        SignupService,
        ConsentService,
        PreferencesService,
        ...(opts.http ? [PagesService] : []),
      ],
      exports: [SignupService, ConsentService, PreferencesService],
    };
  }

  /**
   * Per-IP limit on signups. express-rate-limit rather than @nestjs/throttler, whose
   * CommonJS build cannot load NestJS 12's ES modules under Jest.
   */
  configure(consumer: MiddlewareConsumer): void {
    const limiter = rateLimit({
      windowMs: 60_000,
      limit: this.config.signupRatePerMinute,
      standardHeaders: 'draft-7',
      legacyHeaders: false,
      handler: tooManySignups(() => this.pages()),
    });
    consumer.apply(limiter).forRoutes({ path: 'subscriptions', method: RequestMethod.POST });
  }

  private pages(): PagesService | undefined {
    try {
      return this.moduleRef.get(PagesService, { strict: false });
    } catch {
      return undefined;
    }
  }
}

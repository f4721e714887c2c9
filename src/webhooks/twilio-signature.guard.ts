import {
  Inject,
  Injectable,
  Logger,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { Request } from 'express';
import twilio from 'twilio';
import { Forbidden } from '../common/index.js';
import { CONFIG, type AppConfig } from '../config/index.js';

const forbidden = (message: string) => new Forbidden(message);

/**
 * Lets a request through only if Twilio signed it: X-Twilio-Signature is an HMAC of the public
 * URL and the form fields under our auth token. Runs before body validation, so a forged
 * request learns nothing and changes nothing.
 */
@Injectable()
export class TwilioSignatureGuard implements CanActivate {
  private readonly logger = new Logger(TwilioSignatureGuard.name);

  constructor(@Inject(CONFIG) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    if (!this.config.twilio) {
      throw forbidden(
        'this webhook is off: Twilio is not configured (set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM)',
      );
    }
    const signature = req.header('x-twilio-signature');
    if (!signature) throw forbidden('X-Twilio-Signature: missing');
    // The URL Twilio called, as configured in its console: PUBLIC_URL, not the Host we see
    // behind a proxy.
    const url = this.config.publicUrl + req.originalUrl;
    const params: Record<string, unknown> =
      req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? req.body : {};
    if (!twilio.validateRequest(this.config.twilio.authToken, signature, url, params)) {
      this.logger.warn({ path: req.path }, 'Twilio webhook with a bad signature refused');
      throw forbidden('X-Twilio-Signature: does not match this request');
    }
    return true;
  }
}

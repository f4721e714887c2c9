import { Injectable } from '@nestjs/common';
import { invalid, notFound, isUuid } from '../common/index.js';
import { ConsentService } from '../consent/index.js';
import { EnrollmentsRepository, SafetyService, type HoldLifter } from '../enrollments/index.js';
import { SubscribersRepository, normaliseEmail, normalisePhone } from '../subscribers/index.js';

/** An operator's view of one person: find them, export their consent, lift a safety hold. */
@Injectable()
export class AdminSubscribersService {
  constructor(
    private readonly subscribers: SubscribersRepository,
    private readonly consent: ConsentService,
    private readonly safety: SafetyService,
    private readonly enrollments: EnrollmentsRepository,
  ) {}

  /** The person with this email address or, failing that, phone number. */
  async find(query: { email?: unknown; phone?: unknown }): Promise<{ id: string }> {
    if (typeof query.email === 'string') {
      const email = normaliseEmail(query.email);
      if (!email) throw invalid('email', 'is not a valid email address');
      const s = await this.subscribers.findBy('email', email);
      if (!s) throw notFound('no subscriber with that email');
      return { id: s.id };
    }
    if (typeof query.phone === 'string') {
      const phone = normalisePhone(query.phone);
      if (!phone) throw invalid('phone', 'is not a valid mobile number in international format');
      const s = await this.subscribers.findBy('phone', phone);
      if (!s) throw notFound('no subscriber with that phone');
      return { id: s.id };
    }
    throw invalid('email', 'give email or phone');
  }

  async consentEvidence(id: string) {
    return this.consent.evidence(known(id), await this.enrollments.forSubscriber(known(id)));
  }

  safetyStatus(id: string) {
    return this.safety.status(known(id));
  }

  /** Lifts the hold and answers with what it did and the hold as it now stands. */
  async liftHold(id: string, by: HoldLifter, note: string | null) {
    const done = await this.safety.lift(known(id), by, note);
    return { ...done, safety: await this.safety.status(id) };
  }
}

/** A malformed id is a person we do not have: 404, as for any unknown id. */
function known(id: string): string {
  if (!isUuid(id)) throw notFound('subscriber (malformed id) not found');
  return id;
}

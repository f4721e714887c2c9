import { Injectable } from '@nestjs/common';
import { OptOutService, type OptOutMeta } from '../enrollments/index.js';
import { SenderResolver, type UnsubscribeTarget } from '../links/index.js';

/**
 * What an unsubscribe stops: one clinic's email programme (the default for a link in a
 * clinic's email), or every message to the address on the channel (a link from the public
 * programme, any SMS link, or the person's "stop everything"). SMS has no clinic scope: STOP
 * stops every text to the number, and a link does no less.
 */
export type UnsubscribeScope = { kind: 'clinic'; clinicId: string } | { kind: 'all' };

export function scopeOf(target: UnsubscribeTarget, everything: boolean): UnsubscribeScope {
  if (everything || target.clinicId === null || target.channel !== 'email') return { kind: 'all' };
  return { kind: 'clinic', clinicId: target.clinicId };
}

/** The rules behind an unsubscribe link; the links controller draws the pages. */
@Injectable()
export class UnsubscribeService {
  constructor(
    private readonly optOut: OptOutService,
    private readonly senders: SenderResolver,
  ) {}

  /** The clinic the link's button stops, by name; null when it stops everything. */
  async clinicOf(target: UnsubscribeTarget): Promise<string | null> {
    const scope = scopeOf(target, false);
    return scope.kind === 'clinic' ? (await this.senders.resolve(scope.clinicId)).name : null;
  }

  /**
   * Unsubscribes, as scoped; safe to repeat. Answers what stopped and whose messages they
   * were: the clinic's, or the service's own name when everything stopped.
   */
  async unsubscribe(
    target: UnsubscribeTarget,
    everything: boolean,
    meta: OptOutMeta,
  ): Promise<{ scope: UnsubscribeScope['kind']; from: string }> {
    const scope = scopeOf(target, everything);
    if (scope.kind === 'clinic') {
      const { subscriberId, channel } = target;
      await this.optOut.withdrawFromClinic(
        subscriberId,
        channel,
        scope.clinicId,
        'unsubscribe-link',
        meta,
      );
      return { scope: 'clinic', from: (await this.senders.resolve(scope.clinicId)).name };
    }
    await this.optOut.withdraw(target.subscriberId, target.channel, 'unsubscribe-link', meta);
    return { scope: 'all', from: (await this.senders.resolve(null)).name };
  }
}

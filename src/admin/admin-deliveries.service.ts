import { Injectable } from '@nestjs/common';
import { Clock } from '../common/index.js';
import { ChannelFaults, DeliveriesRepository } from '../delivery/index.js';

/** What the operator asks about: failed or skipped, unresolved, or settled after a crash. */
export const PROBLEM_KINDS = ['failed', 'skipped', 'unresolved', 'settled'] as const;
export type ProblemKind = (typeof PROBLEM_KINDS)[number];

const WEEK_MS = 7 * 86_400_000;

/** For the operator who must explain every missing message: what failed, and why. */
@Injectable()
export class AdminDeliveriesService {
  constructor(
    private readonly deliveries: DeliveriesRepository,
    private readonly faults: ChannelFaults,
    private readonly clock: Clock,
  ) {}

  /** Deliveries of one kind of trouble changed since `since` (default: a week ago), newest first. */
  async problems(q: { kind: ProblemKind; since?: string; limit: number }) {
    const since = q.since ? new Date(q.since) : new Date(this.clock.now().getTime() - WEEK_MS);
    const rows = await this.deliveries.listProblems({ kind: q.kind, since, limit: q.limit });
    return {
      kind: q.kind,
      since: since.toISOString(),
      deliveries: rows.map((r) => ({ ...r, updatedAt: r.updatedAt.toISOString() })),
    };
  }

  /** Each channel: sending, or paused by a configuration fault and why. */
  async channels() {
    const all = await this.faults.all();
    return Object.fromEntries(
      Object.entries(all).map(([channel, fault]) => [
        channel,
        fault ? { status: 'paused', ...fault } : { status: 'sending' },
      ]),
    );
  }
}

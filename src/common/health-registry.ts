import { Injectable } from '@nestjs/common';

/**
 * One entry of /health. `up` and `degraded` answer 200 (degraded: working, but something
 * needs attention, like a channel paused for bad credentials); `down` answers 503.
 */
export type HealthStatus = 'up' | 'degraded' | 'down';

export interface HealthEntry {
  status: HealthStatus;
  /** Why, in a few words: "not reachable (reconnecting)", "paused because SMTP 535". */
  message?: string;
  /** Anything else worth showing (since, counts); nothing personal. */
  [detail: string]: unknown;
}

/** An extra entry of /health, next to postgres and redis. */
export interface HealthContributor {
  /** Its key in the answer: "email", "sms". */
  readonly name: string;
  /** Bounded by the same timeout as the built-in probes; a throw or a timeout is `degraded`. */
  check(): Promise<HealthEntry> | HealthEntry;
}

/**
 * Where other modules add entries to /health. Inject it (import HealthRegistryModule) and
 * register once, for example from a provider's constructor or onModuleInit:
 *
 *   constructor(health: HealthRegistry, faults: ChannelFaults) {
 *     health.register({
 *       name: 'email',
 *       check: async () => {
 *         const fault = await faults.get(QueueName.Email);
 *         return fault ? { status: 'degraded', message: `paused because ${fault.reason}` } : { status: 'up' };
 *       },
 *     });
 *   }
 *
 * Return `down` only for something that makes this instance unfit to serve: it turns the
 * answer into 503 and takes the instance out of a load balancer.
 */
@Injectable()
export class HealthRegistry {
  private readonly contributors = new Map<string, HealthContributor>();

  register(contributor: HealthContributor): void {
    if (
      ['postgres', 'redis'].includes(contributor.name) ||
      this.contributors.has(contributor.name)
    ) {
      throw new Error(`health entry "${contributor.name}" is registered twice`);
    }
    this.contributors.set(contributor.name, contributor);
  }

  list(): HealthContributor[] {
    return [...this.contributors.values()];
  }
}

import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { sql } from 'kysely';
import {
  currentOutage,
  describeConnectionError,
  reportRecovery,
  withDeadline,
  type Dependency,
} from '../common/index.js';
import { DB, type Db } from '../database/index.js';
import { QueuesService } from '../delivery/index.js';
import { HealthRegistry, type HealthEntry } from '../common/index.js';

/** Each probe answers within this, so /health answers within about as long (they run at once). */
export const PROBE_TIMEOUT_MS = 1_500;

/** Terminus's shape: `info` the entries that are not down, `error` those that are, `details` all. */
export interface HealthReport {
  status: 'ok' | 'error' | 'shutting_down';
  info: Record<string, HealthEntry>;
  error: Record<string, HealthEntry>;
  details: Record<string, HealthEntry>;
}

class ProbeTimeout extends Error {}

/** Checks PostgreSQL and Redis, each within PROBE_TIMEOUT_MS, plus any registered entries. */
@Injectable()
export class HealthService implements OnModuleDestroy {
  private closing = false;

  constructor(
    @Inject(DB) private readonly db: Db,
    private readonly queues: QueuesService,
    private readonly registry: HealthRegistry,
  ) {}

  /** From the start of shutdown on, /health answers 503 so load balancers move away. */
  onModuleDestroy(): void {
    this.closing = true;
  }

  async report(): Promise<HealthReport> {
    const extra = this.registry.list();
    const entries = await Promise.all([
      this.probe('postgres', () => this.postgres()),
      this.probe('redis', () => this.redis()),
      ...extra.map((c) =>
        bounded(async () => c.check()).then(
          (entry): [string, HealthEntry] => [c.name, entry],
          (err: unknown): [string, HealthEntry] => [
            c.name,
            { status: 'degraded', message: `check failed: ${describeConnectionError(err)}` },
          ],
        ),
      ),
    ]);
    const report: HealthReport = { status: 'ok', info: {}, error: {}, details: {} };
    for (const [name, entry] of entries) {
      report.details[name] = entry;
      if (entry.status === 'down') report.error[name] = entry;
      else report.info[name] = entry;
    }
    if (Object.keys(report.error).length > 0) report.status = 'error';
    if (this.closing) report.status = 'shutting_down';
    return report;
  }

  /** A built-in probe: up, or down with why and, during an outage, since when. */
  private async probe(
    dependency: Dependency,
    check: () => Promise<void>,
  ): Promise<[Dependency, HealthEntry]> {
    try {
      await bounded(check);
      reportRecovery(dependency);
      return [dependency, { status: 'up' }];
    } catch (err) {
      const outage = currentOutage(dependency);
      return [
        dependency,
        {
          status: 'down',
          message:
            err instanceof ProbeTimeout
              ? err.message
              : `not reachable (${describeConnectionError(err)})`,
          ...(outage
            ? {
                since: new Date(outage.since).toISOString(),
                errors: outage.errors,
                lastError: outage.lastError,
              }
            : {}),
        },
      ];
    }
  }

  private async postgres(): Promise<void> {
    await sql`SELECT 1`.execute(this.db);
  }

  private async redis(): Promise<void> {
    const connection = this.queues.connection;
    // Not connected: say so at once (a PING would wait for the reconnection, or fail blindly).
    if (connection.status !== 'ready') throw new Error(connection.status);
    const pong = await connection.ping();
    if (pong !== 'PONG') throw new Error(`answered ${pong} to PING`);
  }
}

function bounded<T>(check: () => Promise<T>): Promise<T> {
  return withDeadline(
    check(),
    PROBE_TIMEOUT_MS,
    () => new ProbeTimeout(`no answer within ${PROBE_TIMEOUT_MS} ms`),
  );
}

import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/index.js';
import type { Transaction } from 'kysely';
import { DB, type Database, type Db } from '../database/index.js';

type Executor = Db | Transaction<Database>;
import type { InboundKind } from './inbound-intent.js';

export interface InboundRecord {
  id: string;
  providerId: string | null;
  kind: InboundKind;
  body: string;
  subscriberId: string | null;
}

/** inbound_messages: every SMS reply we receive. (Pain scores are the outcomes module's.) */
@Injectable()
export class InboundRepository {
  constructor(
    @Inject(DB) private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /**
   * Records a message, or returns undefined when one with this provider id is already
   * recorded (a Twilio retry): the unique provider_id makes the first writer the only actor.
   * Called inside the transaction that acts on the message: a crash before the commit leaves
   * neither the claim nor the act, so Twilio's retry acts on it. A concurrent retry waits
   * on the unique key until the first transaction ends.
   */
  async claim(
    trx: Transaction<Database>,
    m: {
      providerId: string | null;
      fromPhone: string;
      body: string;
      kind: InboundKind;
      subscriberId: string | null;
    },
  ): Promise<{ id: string } | undefined> {
    return trx
      .insertInto('inbound_messages')
      .values({
        provider_id: m.providerId,
        from_phone: m.fromPhone,
        body: m.body,
        kind: m.kind,
        subscriber_id: m.subscriberId,
        created_at: this.clock.now(),
      })
      .onConflict((oc) => oc.column('provider_id').doNothing())
      .returning('id')
      .executeTakeFirst();
  }

  async findByProviderId(providerId: string): Promise<InboundRecord | undefined> {
    const row = await this.db
      .selectFrom('inbound_messages')
      .select(['id', 'provider_id', 'kind', 'body', 'subscriber_id'])
      .where('provider_id', '=', providerId)
      .executeTakeFirst();
    return (
      row && {
        id: row.id,
        providerId: row.provider_id,
        kind: row.kind as InboundKind,
        body: row.body,
        subscriberId: row.subscriber_id,
      }
    );
  }
  /** Data rights: the replies of a person, by row or from one of their numbers. */
  ofPerson(subscriberIds: string[], phones: string[]) {
    if (subscriberIds.length === 0 && phones.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('inbound_messages')
      .selectAll()
      .where((eb) =>
        eb.or([
          ...(subscriberIds.length ? [eb('subscriber_id', 'in', subscriberIds)] : []),
          ...(phones.length ? [eb('from_phone', 'in', phones)] : []),
        ]),
      )
      .orderBy('created_at')
      .execute();
  }

  /** Data rights: deletes the replies of a person (bodies and numbers); returns how many. */
  async deleteOfPerson(trx: Executor, subscriberIds: string[], phones: string[]) {
    if (subscriberIds.length === 0 && phones.length === 0) return 0;
    const gone = await trx
      .deleteFrom('inbound_messages')
      .where((eb) =>
        eb.or([
          ...(subscriberIds.length ? [eb('subscriber_id', 'in', subscriberIds)] : []),
          ...(phones.length ? [eb('from_phone', 'in', phones)] : []),
        ]),
      )
      .executeTakeFirst();
    return Number(gone.numDeletedRows);
  }

  /** Retention: deletes up to `limit` replies received before `before`; returns how many. */
  async purgeBefore(before: Date, limit: number): Promise<number> {
    const gone = await this.db
      .deleteFrom('inbound_messages')
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('inbound_messages')
          .select('id')
          .where('created_at', '<', before)
          .limit(limit),
      )
      .executeTakeFirst();
    return Number(gone.numDeletedRows);
  }
}

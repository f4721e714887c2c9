import { Inject, Injectable } from '@nestjs/common';
import { sql, type Transaction } from 'kysely';
import { Clock } from '../common/index.js';
import {
  DB,
  type Channel,
  type ConsentKind,
  type Database,
  type Db,
  type Subscriber,
} from '../database/index.js';

type Executor = Db | Transaction<Database>;

@Injectable()
export class SubscribersRepository {
  constructor(
    @Inject(DB) private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /** Finds the person by the address of the channel, or creates them. */
  async findOrCreate(
    trx: Executor,
    contact: { email: string | null; phone: string | null; name: string | null },
    by: Channel,
    opts: { updateName: boolean } = { updateName: true },
  ): Promise<Subscriber> {
    const column = by === 'email' ? 'email' : 'phone';
    const key = contact[column];
    if (!key) throw new Error(`no ${column} to identify the subscriber by`);
    const existing = await trx
      .selectFrom('subscribers')
      .selectAll()
      .where(column, '=', key)
      .forUpdate()
      .executeTakeFirst();
    if (existing) {
      if (opts.updateName && contact.name && contact.name !== existing.name) {
        return trx
          .updateTable('subscribers')
          .set({ name: contact.name, updated_at: this.clock.now() })
          .where('id', '=', existing.id)
          .returningAll()
          .executeTakeFirstOrThrow();
      }
      return existing;
    }
    const inserted = await trx
      .insertInto('subscribers')
      .values({
        created_at: this.clock.now(),
        updated_at: this.clock.now(),
        email: by === 'email' ? key : null,
        phone: by === 'sms' ? key : null,
        name: contact.name,
      })
      .onConflict((oc) => oc.column(column).where(column, 'is not', null).doNothing())
      .returningAll()
      .executeTakeFirst();
    // Lost a race with a concurrent insert of the same address: read the winner.
    return (
      inserted ??
      trx.selectFrom('subscribers').selectAll().where(column, '=', key).executeTakeFirstOrThrow()
    );
  }

  async recordConsent(
    trx: Executor,
    event: {
      subscriberId: string;
      kind: ConsentKind;
      channel: Channel;
      source: string;
      textVersion?: string | null;
      /** The campaign the words named, and the words exactly as shown. */
      campaignId?: string | null;
      text?: string | null;
      /** What the person wrote, for a keyword texted to us. */
      words?: string | null;
      ip?: string | null;
      userAgent?: string | null;
      /** A clinic's attestation: the clinic, how and when the person agreed, who took it. */
      clinicId?: string | null;
      method?: string | null;
      obtainedAt?: Date | null;
      collectedBy?: string | null;
    },
  ): Promise<void> {
    await trx
      .insertInto('consent_events')
      .values({
        created_at: this.clock.now(),
        subscriber_id: event.subscriberId,
        kind: event.kind,
        channel: event.channel,
        source: event.source,
        text_version: event.textVersion ?? null,
        campaign_id: event.campaignId ?? null,
        text: event.text ?? null,
        words: event.words ?? null,
        ip: event.ip ?? null,
        user_agent: event.userAgent ?? null,
        clinic_id: event.clinicId ?? null,
        method: event.method ?? null,
        obtained_at: event.obtainedAt ?? null,
        collected_by: event.collectedBy ?? null,
      })
      .execute();
  }

  findBy(
    column: 'email' | 'phone',
    value: string,
    trx: Executor = this.db,
  ): Promise<Subscriber | undefined> {
    return trx.selectFrom('subscribers').selectAll().where(column, '=', value).executeTakeFirst();
  }

  findById(id: string, trx: Executor = this.db): Promise<Subscriber | undefined> {
    return trx.selectFrom('subscribers').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async unsuppress(address: string, trx: Executor = this.db): Promise<boolean> {
    const r = await trx
      .deleteFrom('suppressions')
      .where('address', '=', address)
      .executeTakeFirst();
    return r.numDeletedRows > 0n;
  }

  /**
   * The kind of the newest consent event of one clinic's on a channel for this person: a
   * 'withdrawn' one means they unsubscribed from that clinic's programme.
   */
  async lastClinicConsent(
    trx: Executor,
    subscriberId: string,
    clinicId: string,
    channel: Channel,
  ): Promise<ConsentKind | undefined> {
    const row = await trx
      .selectFrom('consent_events')
      .select('kind')
      .where('subscriber_id', '=', subscriberId)
      .where('clinic_id', '=', clinicId)
      .where('channel', '=', channel)
      .orderBy('created_at', 'desc')
      // Two events in the same millisecond: the opt-out wins, on the safe side.
      .orderBy(sql`kind = 'withdrawn'`, 'desc')
      .limit(1)
      .executeTakeFirst();
    return row?.kind;
  }

  consentEvents(subscriberId: string) {
    return this.db
      .selectFrom('consent_events')
      .selectAll()
      .where('subscriber_id', '=', subscriberId)
      .orderBy('created_at')
      .execute();
  }

  suppressionsOf(addresses: string[]) {
    if (addresses.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('suppressions')
      .selectAll()
      .where('address', 'in', addresses)
      .execute();
  }

  async isSuppressed(address: string, trx: Executor = this.db): Promise<boolean> {
    const row = await trx
      .selectFrom('suppressions')
      .select('address')
      .where('address', '=', address)
      .executeTakeFirst();
    return row !== undefined;
  }

  async suppress(
    address: string,
    channel: Channel,
    reason: string,
    trx: Executor = this.db,
  ): Promise<void> {
    await trx
      .insertInto('suppressions')
      .values({ address, channel, reason, created_at: this.clock.now() })
      .onConflict((oc) => oc.column('address').doNothing())
      .execute();
  }

  /**
   * Makes the row holding `address` (created when missing, with no enrolment) part of this
   * subscriber's person. Used when a clinic or operator enrols someone with both an email
   * address and a phone number: a warning sign sent from either then holds both.
   */
  /**
   * A clinic or operator vouches that both addresses are this person's: links the one the
   * enrolment does not use, so a warning sign sent from either holds the tips on both.
   */
  async linkOtherAddress(
    trx: Executor,
    subscriber: Subscriber,
    contact: { email: string | null; phone: string | null },
    channel: Channel,
  ): Promise<void> {
    const other = channel === 'email' ? contact.phone : contact.email;
    if (other)
      await this.linkAddress(trx, subscriber, channel === 'email' ? 'phone' : 'email', other);
  }

  async linkAddress(
    trx: Executor,
    subscriber: Subscriber,
    column: 'email' | 'phone',
    address: string,
  ): Promise<void> {
    if (subscriber[column] === address) return;
    const other = await trx
      .selectFrom('subscribers')
      .select(['id', 'person_id'])
      .where(column, '=', address)
      .forUpdate()
      .executeTakeFirst();
    if (!other) {
      await trx
        .insertInto('subscribers')
        .values({
          created_at: this.clock.now(),
          updated_at: this.clock.now(),
          email: column === 'email' ? address : null,
          phone: column === 'phone' ? address : null,
          name: subscriber.name,
          person_id: subscriber.person_id,
        })
        .onConflict((oc) => oc.column(column).where(column, 'is not', null).doNothing())
        .execute();
      return;
    }
    if (other.person_id === subscriber.person_id) return;
    // Everyone already linked to the other row joins this person too.
    await trx
      .updateTable('subscribers')
      .set({ person_id: subscriber.person_id, updated_at: this.clock.now() })
      .where('person_id', '=', other.person_id)
      .execute();
  }

  /** The rows of the person this subscriber belongs to (at least the subscriber itself). */
  samePerson(subscriberId: string, trx: Executor = this.db): Promise<Subscriber[]> {
    return trx
      .selectFrom('subscribers')
      .selectAll()
      .where(
        'person_id',
        '=',
        trx.selectFrom('subscribers as s').select('s.person_id').where('s.id', '=', subscriberId),
      )
      .execute();
  }

  /** The safety hold on this subscriber's person, if there is one. */
  holdOf(subscriberId: string, trx: Executor = this.db) {
    return trx
      .selectFrom('safety_holds as h')
      .innerJoin('subscribers as s', 's.person_id', 'h.person_id')
      .select(['h.person_id', 'h.signs', 'h.created_at', 'h.inbound_message_id'])
      .where('s.id', '=', subscriberId)
      .executeTakeFirst();
  }
}

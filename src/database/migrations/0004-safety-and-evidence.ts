import { sql, type Kysely } from 'kysely';

/**
 * A person, a safety hold, and consent evidence that keeps its own words.
 *
 * - `subscribers.person_id`: one person can have a row per address (an email row and a phone
 *   row). Rows that a clinic or operator enrolled together share a person id, so a warning
 *   sign texted from the phone also holds the email tips.
 * - `safety_holds`: a person who reported a warning sign gets no tips, on any channel, until
 *   a clinic, an operator, or the person (confirming they have been seen) lifts the hold.
 *   `safety_events` is the append-only history of holds and of who lifted them.
 * - `enrollments.pause_reason`: 'person' (preferences), 'operator', or 'safety' (the hold;
 *   the preferences page cannot resume it).
 * - `consent_events.campaign_id` and `text`: the exact words shown, stored with the event,
 *   so an export a year later shows what was shown even after the campaign changed; `words`:
 *   what the person wrote themselves (the text of an SMS that opted out or in).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('subscribers')
    .addColumn('person_id', 'uuid', (c) => c.notNull().defaultTo(sql`gen_random_uuid()`))
    .execute();
  await sql`UPDATE subscribers SET person_id = id`.execute(db);
  await db.schema.createIndex('subscribers_person').on('subscribers').column('person_id').execute();

  await db.schema.alterTable('enrollments').addColumn('pause_reason', 'text').execute();
  await sql`UPDATE enrollments SET pause_reason = 'person' WHERE status = 'paused'`.execute(db);

  await db.schema
    .createTable('safety_holds')
    .addColumn('person_id', 'uuid', (c) => c.primaryKey())
    // No foreign keys to subscribers: housekeeping deletes unconfirmed people, and the
    // safety record of what they texted must outlive that.
    .addColumn('subscriber_id', 'uuid', (c) => c.notNull())
    .addColumn('inbound_message_id', 'uuid')
    .addColumn('signs', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('safety_events')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('person_id', 'uuid', (c) => c.notNull())
    .addColumn('subscriber_id', 'uuid')
    // 'emergency' | 'see-physician' (a reply), 'cleared' (the hold lifted)
    .addColumn('kind', 'text', (c) => c.notNull())
    // 'sms' | 'clinic' | 'operator' | 'patient'
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('signs', 'text')
    .addColumn('inbound_message_id', 'uuid')
    .addColumn('note', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('safety_events_person')
    .on('safety_events')
    .columns(['person_id', 'created_at'])
    .execute();

  await db.schema
    .alterTable('consent_events')
    .addColumn('campaign_id', 'text')
    .addColumn('text', 'text')
    .addColumn('words', 'text')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('consent_events')
    .dropColumn('campaign_id')
    .dropColumn('text')
    .dropColumn('words')
    .execute();
  await db.schema.dropTable('safety_events').execute();
  await db.schema.dropTable('safety_holds').execute();
  await db.schema.alterTable('enrollments').dropColumn('pause_reason').execute();
  await db.schema.dropIndex('subscribers_person').execute();
  await db.schema.alterTable('subscribers').dropColumn('person_id').execute();
}

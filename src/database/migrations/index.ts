import type { Migration } from 'kysely';
import * as m0001 from './0001-core.js';
import * as m0002 from './0002-consent-lifecycle.js';
import * as m0003 from './0003-delivery-leases.js';
import * as m0004 from './0004-safety-and-evidence.js';
import * as m0005 from './0005-step-keys.js';
import * as m0006 from './0006-clinics.js';
import * as m0007 from './0007-staff-and-triage.js';
import * as m0008 from './0008-imports.js';
import * as m0009 from './0009-outcomes.js';
import * as m0010 from './0010-clinic-webhooks.js';

/** Every migration, in order. Listed here (not read from disk) so the build needs no file globbing. */
export const migrations: Record<string, Migration> = {
  '0001-core': m0001,
  '0002-consent-lifecycle': m0002,
  '0003-delivery-leases': m0003,
  '0004-safety-and-evidence': m0004,
  '0005-step-keys': m0005,
  '0006-clinics': m0006,
  '0007-staff-and-triage': m0007,
  '0008-imports': m0008,
  '0009-outcomes': m0009,
  '0010-clinic-webhooks': m0010,
};

export { LinksModule } from './links.module.js';
export {
  LinksService,
  LINK_TTL_SECONDS,
  CONFIRM_TTL_SECONDS,
  OUTCOME_TTL_SECONDS,
} from './links.service.js';
export type { OutcomeTarget } from './outcome-target.js';
export { MessageComposer } from './message-composer.js';
export {
  SenderResolver,
  type ClinicDirectory,
  type ClinicIdentity,
  type SenderIdentity,
} from './sender-resolver.js';
export type { UnsubscribeTarget } from './unsubscribe-target.js';

export * from './campaign.types.js';
export { CampaignsService } from './campaigns.service.js';
export { CampaignsModule } from './campaigns.module.js';
export { loadCampaigns } from './campaign-loader.js';
export { TemplateError, formatProblem, oneLine, type TemplateProblem } from './template-error.js';
export { YamlSource } from './yaml-source.js';
export { stepToSend, stepAfter, strandedBy, type StepInUse } from './step-order.js';
export {
  PAIN_SCALE,
  PAIN_SCORES,
  RATING_SCALE,
  ratingByKey,
  ratingOf,
  type RatingAnswer,
} from './check-in-scales.js';

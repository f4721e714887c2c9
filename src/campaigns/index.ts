export * from './campaign.types.js';
export { CampaignsService } from './campaigns.service.js';
export { CampaignsModule } from './campaigns.module.js';
export { loadCampaigns, TemplateError } from './campaign-loader.js';

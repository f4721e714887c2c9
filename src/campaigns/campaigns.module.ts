import { Global, Module } from '@nestjs/common';
import { CampaignsService } from './campaigns.service.js';

@Global()
@Module({ providers: [CampaignsService], exports: [CampaignsService] })
export class CampaignsModule {}

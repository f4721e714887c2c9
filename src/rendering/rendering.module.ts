import { Module } from '@nestjs/common';
import { CampaignsModule, CampaignsService } from '../campaigns/index.js';
import { CONFIG, type AppConfig } from '../config/index.js';
import { Renderer } from './renderer.js';

@Module({
  imports: [CampaignsModule],
  providers: [
    {
      provide: Renderer,
      inject: [CONFIG, CampaignsService],
      useFactory: (config: AppConfig, campaigns: CampaignsService) =>
        Renderer.create(config.templatesDir, campaigns.list()),
    },
  ],
  exports: [Renderer],
})
export class RenderingModule {}

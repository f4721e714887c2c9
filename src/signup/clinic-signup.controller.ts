import { Body, Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { send } from './answer.js';
import { requestMeta, wantsJson } from './request-meta.js';
import { SignupPagesService } from './signup-pages.service.js';

/** A clinic's site may frame its page (the app sets no other framing rule). */
const FRAMEABLE = 'frame-ancestors *';

/**
 * A clinic's own signup page, `/c/<slug>`: the public form under the clinic's name, whose
 * signups join that clinic's programme. `/c/<slug>/embed` is the same form for the clinic's
 * site to frame, as `/embed` is for the public one.
 */
@ApiExcludeController()
@Controller('c')
export class ClinicSignupController {
  constructor(private readonly signupPages: SignupPagesService) {}

  @Get(':slug')
  async page(
    @Param('slug') slug: string,
    @Query('campaign') campaign: unknown,
    @Res() res: Response,
  ): Promise<void> {
    res.setHeader('Content-Security-Policy', FRAMEABLE);
    send(res, await this.signupPages.clinicForm(slug, campaign, false));
  }

  @Get(':slug/embed')
  async embed(
    @Param('slug') slug: string,
    @Query('campaign') campaign: unknown,
    @Res() res: Response,
  ): Promise<void> {
    res.setHeader('Content-Security-Policy', FRAMEABLE);
    send(res, await this.signupPages.clinicForm(slug, campaign, true));
  }

  @Post(':slug')
  async subscribe(
    @Param('slug') slug: string,
    @Body() body: unknown,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    send(res, await this.signupPages.clinicSubscribe(slug, body, requestMeta(req), wantsJson(req)));
  }
}

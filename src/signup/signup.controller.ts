import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { send } from './answer.js';
import { requestMeta, wantsJson } from './request-meta.js';
import { SignupAnswers } from './signup-answers.js';
import { SignupPagesService } from './signup-pages.service.js';

@ApiTags('signup')
@Controller()
export class SignupController {
  constructor(
    private readonly signupPages: SignupPagesService,
    private readonly answers: SignupAnswers,
  ) {}

  @Get()
  @ApiExcludeEndpoint()
  home(@Query('campaign') campaign: unknown, @Res() res: Response): void {
    send(res, this.signupPages.form(campaign, false));
  }

  /** The same form for a clinic's site to frame. */
  @Get('embed')
  @ApiExcludeEndpoint()
  embed(@Query('campaign') campaign: unknown, @Res() res: Response): void {
    res.setHeader('Content-Security-Policy', 'frame-ancestors *');
    send(res, this.signupPages.form(campaign, true));
  }

  @Post('subscriptions')
  @ApiOperation({ summary: 'Sign up (form post or JSON); answers 202 and sends a confirmation' })
  async subscribe(@Body() body: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    send(res, await this.signupPages.subscribe(body, requestMeta(req), wantsJson(req)));
  }

  /** A page with a button, never a change: mail scanners open (GET) every link they see. */
  @Get('confirm/:token')
  @ApiExcludeEndpoint()
  async confirmPage(@Param('token') token: string, @Res() res: Response): Promise<void> {
    send(res, await this.signupPages.confirmPage(token));
  }

  @Post('confirm/:token')
  @HttpCode(200)
  @ApiExcludeEndpoint()
  async confirm(
    @Param('token') token: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    send(res, await this.signupPages.confirm(token, requestMeta(req)));
  }

  @Get('terms')
  @ApiExcludeEndpoint()
  terms(@Res() res: Response): void {
    send(res, this.answers.terms());
  }

  @Get('privacy')
  @ApiExcludeEndpoint()
  privacy(@Res() res: Response): void {
    send(res, this.answers.privacy());
  }
}

import { Body, Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { DomainError, NotFound } from '../common/index.js';
import { PagesService } from '../signup/index.js';
import { REPORTABLE_SIGNS, TriageReports } from './triage-report.service.js';

/**
 * The link in every email's safety box. GET shows the signs to tick (and says to call for
 * help first); only the form's POST acts, so a mail scanner opening the link does nothing.
 * Public pages for people, left out of the OpenAPI document like the other link pages.
 */
@ApiExcludeController()
@Controller('warning-sign')
export class TriageReportController {
  constructor(
    private readonly reports: TriageReports,
    private readonly pages: PagesService,
  ) {}

  @Get(':token')
  async form(@Param('token') token: string, @Res() res: Response): Promise<void> {
    await this.send(res, async () => {
      await this.reports.open(token);
      return this.page(token);
    });
  }

  @Post(':token')
  @HttpCode(200)
  async report(
    @Param('token') token: string,
    @Body() body: Record<string, unknown> | undefined,
    @Res() res: Response,
  ): Promise<void> {
    await this.send(
      res,
      async () => {
        const { told } = await this.reports.report(token, body?.sign);
        return this.pages.render('warning-sign-done', 'Please get emergency help now', { told });
      },
      token,
    );
  }

  private page(token: string, error?: string): string {
    return this.pages.render('warning-sign', 'Do you have one of these signs?', {
      action: `/warning-sign/${token}`,
      signs: REPORTABLE_SIGNS,
      error,
    });
  }

  private async send(res: Response, page: () => Promise<string>, token?: string): Promise<void> {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Referrer-Policy', 'no-referrer');
    try {
      res.type('html').send(await page());
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      if (err instanceof NotFound) {
        res
          .status(404)
          .type('html')
          .send(
            this.pages.message('This link does not work', [
              'It is not one we sent, or it has expired.',
              'If you have chest pain, shortness of breath, or pain spreading to your arm, neck or jaw, call your local emergency number now.',
            ]),
          );
        return;
      }
      res.status(400).type('html').send(this.page(token!, 'Tick the signs you have now.'));
    }
  }
}

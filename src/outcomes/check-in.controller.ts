import { Body, Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { DomainError, NotFound } from '../common/index.js';
import { CheckInAnswers } from './check-in-answers.service.js';
import { CheckInPages } from './check-in.pages.js';

/**
 * The one-tap check-in links: GET /o/:token shows what the link would send and a button;
 * only the form's POST records (mail scanners fetch every link in an email). Public pages
 * for people, not an API: left out of the OpenAPI document like the other link pages.
 */
@ApiExcludeController()
@Controller('o')
export class CheckInController {
  constructor(
    private readonly answers: CheckInAnswers,
    private readonly pages: CheckInPages,
  ) {}

  @Get(':token')
  async page(@Param('token') token: string, @Res() res: Response): Promise<void> {
    await this.send(res, async () =>
      this.pages.question(await this.answers.view(token), `/o/${token}`),
    );
  }

  @Post(':token')
  @HttpCode(200)
  async answer(
    @Param('token') token: string,
    @Body() body: Record<string, unknown> | undefined,
    @Res() res: Response,
  ): Promise<void> {
    await this.send(res, async () =>
      this.pages.thanks(await this.answers.answer(token, body?.value)),
    );
  }

  /** The page, or the friendly one for a refused link or answer (never a 500 for bad input). */
  private async send(res: Response, page: () => Promise<string>): Promise<void> {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Referrer-Policy', 'no-referrer');
    try {
      res.type('html').send(await page());
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      const field = err.errors?.[0]?.field;
      const [status, kind] =
        err instanceof NotFound
          ? ([404, 'gone'] as const)
          : field === 'value'
            ? ([400, 'bad-answer'] as const)
            : ([400, 'bad-link'] as const);
      res.status(status).type('html').send(this.pages.problem(kind, err.message));
    }
  }
}

import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiExcludeEndpoint,
  ApiExtraModels,
  ApiOperation,
  ApiResponse,
  ApiTags,
  getSchemaPath,
  type SchemaObject,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import {
  ApiZodBody,
  ErrorBody,
  errorExample,
  FieldErrorBody,
  type ErrorStatus,
} from '../common/index.js';
import { send } from './answer.js';
import { requestMeta, wantsJson } from './request-meta.js';
import { SignupAnswers } from './signup-answers.js';
import { SignupPagesService } from './signup-pages.service.js';
import { NotEnrolledDto, SignupAcceptedDto, signupSchema } from './signup.dto.js';

const PAGE = { 'text/html': { schema: { type: 'string' } as SchemaObject } };

/** An answer of POST /subscriptions: JSON for an API client, a page for a form post. */
function JsonOrPage(status: number, description: string, json: object) {
  return ApiResponse({
    status,
    description,
    content: { 'application/json': json, ...PAGE },
  });
}

const errorJson = (status: ErrorStatus, message: string) => ({
  schema: { $ref: getSchemaPath(ErrorBody) },
  example: errorExample(status, message),
});

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
  @ApiOperation({
    summary: 'Sign up (form post or JSON); answers 202 and sends a confirmation',
    description:
      'JSON in (or `Accept: application/json`): JSON out. A form post gets pages. With any ' +
      'warning sign in redFlags nobody is enrolled and the rest is not checked (200). The ' +
      'channel may be left out when only one of email and phone is given. A per-address limit ' +
      'answers 429.',
  })
  @ApiZodBody(signupSchema, {
    contentTypes: ['application/json', 'application/x-www-form-urlencoded'],
    adjust: signupBody,
    examples: {
      email: {
        summary: 'By email',
        value: {
          campaign: 'upper-back-relief',
          name: 'Pat',
          channel: 'email',
          email: 'pat@example.com',
          timezone: 'America/New_York',
          sendTime: '08:00',
          consent: true,
        },
      },
      redFlag: {
        summary: 'A warning sign ticked: nobody is enrolled',
        value: { redFlags: ['chest'] },
      },
    },
  })
  @ApiExtraModels(SignupAcceptedDto, NotEnrolledDto, ErrorBody, FieldErrorBody)
  @JsonOrPage(202, 'Signed up: a confirmation link (email) or text (SMS) is on its way', {
    schema: { $ref: getSchemaPath(SignupAcceptedDto) },
  })
  @JsonOrPage(200, 'A warning sign was ticked: nobody is enrolled; get care first', {
    schema: { $ref: getSchemaPath(NotEnrolledDto) },
  })
  @JsonOrPage(
    400,
    'Bad input: JSON lists every field at fault; a form post gets the form again, annotated',
    errorJson(400, 'timezone: must be an IANA time zone such as Europe/London or America/New_York'),
  )
  @JsonOrPage(
    429,
    'Too many signups from this address in a minute, or too many confirmation texts to a number',
    errorJson(429, 'Too many signups from this address; try again in a minute.'),
  )
  @JsonOrPage(
    503,
    'Redis or PostgreSQL unreachable: nothing was stored',
    errorJson(503, 'Redis is unreachable; nothing was changed, try again shortly'),
  )
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

/**
 * The signup schema as the route applies it: a red flag alone is answered (200) without the
 * rest; otherwise timezone and consent are needed, and channel follows from a lone address.
 */
function signupBody(schema: SchemaObject): SchemaObject {
  const { required: _required, ...rest } = schema;
  return {
    ...rest,
    anyOf: [{ required: ['timezone', 'consent'] }, { required: ['redFlags'] }],
  };
}

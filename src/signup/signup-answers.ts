import { Inject, Injectable } from '@nestjs/common';
import type { Campaign } from '../campaigns/index.js';
import type { Channel } from '../database/index.js';
import { CONFIG, type AppConfig } from '../config/index.js';
import { consentText, consentVars, CURRENT_SIGNUP_TEXT } from '../consent/index.js';
import type { Answer } from './answer.js';
import { PagesService } from './pages.service.js';
import { RED_FLAGS } from './red-flags.js';
import type { FormError } from './signup-form.js';
import { TIME_ZONES } from './timezones.js';

type RedFlag = (typeof RED_FLAGS)[number];

/** A clinic as its own signup page shows it. */
export interface ClinicPage {
  id: string;
  slug: string;
  /** The clinic's name, heading the page. */
  name: string;
  /** Who its messages come from: the sender the consent words name. */
  sender: string;
  chiropractor: string | null;
  /** A data: URI (see ClinicLogos), never the clinic's own URL. */
  logo: string | null;
}

/** The answers of the signup form and the confirm link: pages for people, JSON for clients. */
@Injectable()
export class SignupAnswers {
  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly pages: PagesService,
  ) {}

  /** The empty form; `embed` for a clinic's site to frame; `clinic` for a clinic's own page. */
  form(campaign: Campaign, embed: boolean, clinic?: ClinicPage): Answer {
    return { status: 200, html: this.page(campaign, {}, [], embed, clinic) };
  }

  /** The form again: 400, with every problem listed and what was typed kept. */
  formAgain(
    campaign: Campaign,
    values: Record<string, unknown>,
    errors: FormError[],
    clinic?: ClinicPage,
  ): Answer {
    return { status: 400, html: this.page(campaign, values, errors, false, clinic) };
  }

  private page(
    campaign: Campaign,
    values: Record<string, unknown>,
    errors: FormError[],
    embed: boolean,
    clinic: ClinicPage | undefined,
  ): string {
    // The words stored with the signup are these: SignupService fills in the same sender.
    const words = consentVars(campaign, clinic?.sender ?? this.config.sender.name);
    return this.pages.render(
      'signup',
      `${errors.length > 0 ? 'Error: ' : ''}Join ${campaign.name}`,
      {
        campaign: {
          id: campaign.id,
          name: campaign.name,
          days: words.days,
          messages: words.messages,
          daily: campaign.cadence.type === 'daily',
          pace: words.pace,
        },
        values: {
          sendTime: '08:00',
          timezone: 'UTC',
          ...values,
          timezoneChosen: typeof values.timezone === 'string',
        },
        errors,
        fieldErrors: Object.fromEntries(errors.map((e) => [e.field, e.advice])),
        redFlags: RED_FLAGS,
        timezones: TIME_ZONES,
        consentText: consentText(CURRENT_SIGNUP_TEXT, words),
        action: clinic ? `/c/${clinic.slug}` : '/subscriptions',
        clinic: clinic && { name: clinic.name, chiropractor: clinic.chiropractor },
      },
      { embed, brand: clinic && { name: clinic.name, logo: clinic.logo } },
    );
  }

  /** A clinic page's address that no clinic has. */
  noSuchClinic(): Answer {
    return {
      status: 404,
      html: this.pages.message(
        'Page not found',
        [
          'No clinic has a signup page at this address. Check the link your clinic gave you: it may be out of date or copied incompletely.',
        ],
        { href: '/', text: 'Go to the signup page' },
      ),
    };
  }

  /** An unknown `?campaign=`: a dead link, not a reason to sign someone up for another. */
  notOffered(): Answer {
    return {
      status: 404,
      html: this.pages.message(
        'Page not found',
        [
          'This signup link names a programme we do not offer. It may be out of date or copied incompletely.',
        ],
        { href: '/', text: 'Go to the signup page' },
      ),
    };
  }

  /** A warning sign ticked: nobody is enrolled, and the person is told to get care. */
  getCare(flags: RedFlag[], json: boolean): Answer {
    const emergency = flags.some((f) => f.emergency);
    if (json) {
      return {
        status: 200,
        json: {
          status: 'not-enrolled',
          reason: 'red-flags',
          emergency,
          flags: flags.map((f) => f.id),
        },
      };
    }
    return {
      status: 200,
      html: this.pages.render('get-care', 'Please get care first', { flags, emergency }),
    };
  }

  /** Signed up: 202, and where the confirmation went. */
  checkConfirmation(channel: Channel, json: boolean): Answer {
    const where = channel === 'email' ? 'your inbox' : 'your phone';
    const how =
      channel === 'email'
        ? 'open the link in the email we just sent'
        : 'reply YES to the text we just sent';
    if (json) {
      return {
        status: 202,
        json: { status: 'pending-confirmation', message: `Check ${where}: ${how} to start.` },
      };
    }
    return {
      status: 202,
      html: this.pages.message(`Check ${where}`, [
        `Almost done: ${how}. Nothing is sent until you confirm.`,
        channel === 'email'
          ? 'If nothing arrives within a few minutes, check your spam folder or sign up again.'
          : 'No text within a few minutes? If you once replied STOP to us, text START to our number: that confirms too.',
      ]),
    };
  }

  /** The page behind a confirm link: a button, never a change. `from`: the clinic, if any. */
  confirmButton(token: string, programme: string, channel: string, from: string | null): Answer {
    return {
      status: 200,
      html: this.pages.render('confirm', 'Confirm your signup', {
        programme,
        from,
        channelLabel: channel === 'sms' ? 'text message' : 'email',
        action: `/confirm/${token}`,
      }),
    };
  }

  badConfirmLink(): Answer {
    return {
      status: 400,
      html: this.pages.message(
        'This link does not work',
        [
          'It may have expired (links last three days) or been copied incompletely.',
          'You can sign up again; it only takes a minute.',
        ],
        { href: '/', text: 'Sign up again' },
      ),
    };
  }

  confirmed(state: 'confirmed' | 'already'): Answer {
    return {
      status: 200,
      html:
        state === 'confirmed'
          ? this.pages.message("You're in", [
              'Thank you for confirming. Your welcome message is on its way, and a short tip follows each day.',
              'Every message has a link to change your preferences or stop.',
            ])
          : this.pages.message('Already confirmed', [
              'You have already confirmed this signup. Your tips are on their way.',
            ]),
    };
  }

  terms(): Answer {
    return { status: 200, html: this.pages.render('terms', 'Terms') };
  }

  privacy(): Answer {
    return { status: 200, html: this.pages.render('privacy', 'Privacy notice') };
  }
}

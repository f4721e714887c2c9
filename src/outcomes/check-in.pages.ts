import { Injectable } from '@nestjs/common';
import { PAIN_SCALE, RATING_SCALE } from '../campaigns/index.js';
import { PagesService } from '../signup/index.js';
import type { CheckInAnswered, CheckInView } from './check-in-answers.service.js';

const QUESTION = {
  nprs: 'How bad is the pain between your shoulder blades today?',
  groc: 'Since you started the programme, how is your back overall?',
} as const;

/** The pages behind check-in links, in the site's own layout (templates/pages/check-in.hbs). */
@Injectable()
export class CheckInPages {
  constructor(private readonly pages: PagesService) {}

  /** The confirmation page (one answer and a button), or the page of every answer. */
  question(view: CheckInView, action: string): string {
    const brand = { name: view.from, logo: null };
    if (view.value === null) {
      const choices =
        view.kind === 'groc'
          ? RATING_SCALE.map((r) => ({ key: r.key, label: r.label }))
          : Array.from({ length: PAIN_SCALE.max + 1 }, (_v, n) => ({
              key: String(n),
              label: String(n),
            }));
      return this.pages.render(
        'check-in',
        'Your answer',
        {
          question: QUESTION[view.kind],
          hint:
            view.kind === 'groc'
              ? 'Press the answer that fits best. It is sent at once.'
              : `0 means no pain, 10 the ${PAIN_SCALE.highLabel}. Press a number to send it.`,
          choices,
          previous: view.previous,
          action,
        },
        { brand },
      );
    }
    return this.pages.render(
      'check-in',
      'Send your answer?',
      {
        question: QUESTION[view.kind],
        answer: view.answer,
        scale:
          view.kind === 'nprs' ? `0 = ${PAIN_SCALE.lowLabel}, 10 = ${PAIN_SCALE.highLabel}` : null,
        previous: view.previous,
        action,
      },
      { brand },
    );
  }

  thanks(done: CheckInAnswered): string {
    const said =
      done.kind === 'nprs'
        ? `We noted your pain today as ${done.answer}.`
        : `We noted your answer: ${done.answer}.`;
    return this.pages.render(
      'check-in',
      'Thank you',
      { thanks: said, from: done.from },
      { brand: { name: done.from, logo: null } },
    );
  }

  /** A link that does not work (400) or a check-in no longer on record (404). */
  problem(kind: 'bad-link' | 'gone' | 'bad-answer', detail: string): string {
    if (kind === 'bad-answer') {
      return this.pages.message('Please choose an answer', [
        `${detail}. Go back and press one of the answers.`,
      ]);
    }
    return this.pages.message(
      kind === 'gone' ? 'This question is closed' : 'This link does not work',
      kind === 'gone'
        ? ['We no longer hold the message this link came from, so the answer cannot be saved.']
        : [
            'It may be incomplete or too old. Use the links in your most recent message, or reply to a text with a number from 0 to 10.',
          ],
    );
  }
}

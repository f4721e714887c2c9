import type { Response } from 'express';

/** What a public page or signup answers: a status with a page or a JSON body. */
export type Answer = { status: number; html: string } | { status: number; json: unknown };

/** Sends an answer as it is: the controller's only work once the service has decided. */
export function send(res: Response, answer: Answer): void {
  res.status(answer.status);
  if ('html' in answer) res.type('html').send(answer.html);
  else res.json(answer.json);
}

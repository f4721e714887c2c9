import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { expect } from '@jest/globals';
import request from 'supertest';
import twilio from 'twilio';
import { ADMIN_TOKEN } from './app.js';

type HttpServer = Server | (() => Server);
const agentOf = (server: HttpServer) => request(typeof server === 'function' ? server() : server);

/** The operator's admin API, with its bearer token. */
export function adminApi(server: HttpServer) {
  return (method: 'post' | 'get' | 'delete', path: string, body?: object) => {
    const r = agentOf(server)
      [method](`/api/v1/admin${path}`)
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`);
    return body ? r.send(body) : r;
  };
}

/** A clinic (attested consent unless told) and an API key with the given scopes. */
export async function newClinicWithKey(
  server: HttpServer,
  name: string,
  over: Record<string, unknown> = {},
  scopes = ['enrollments:write', 'enrollments:read', 'import'],
): Promise<{ id: string; key: string }> {
  const admin = adminApi(server);
  const res = await admin('post', '/clinics', {
    name,
    timezone: 'America/New_York',
    senderName: name,
    replyTo: 'desk@clinic.example',
    phone: '+12125550199',
    postalAddress: '12 River St, Springfield, NY 10001',
    bookingUrl: 'https://clinic.example/book',
    consentMode: 'attested',
    ...over,
  }).expect(201);
  const key = await admin('post', `/clinics/${res.body.id}/api-keys`, { scopes }).expect(201);
  return { id: res.body.id as string, key: key.body.apiKey as string };
}

/** A text from `from`, signed as Twilio signs it, posted to the inbound webhook. */
export function signedTexts(
  server: HttpServer,
  twilioAccount: { accountSid: string; authToken: string },
  publicUrl: string,
  to = '+15005550006',
) {
  const path = '/webhooks/twilio/inbound';
  return (from: string, body: string) => {
    const params = {
      MessageSid: `SM${randomBytes(16).toString('hex')}`,
      AccountSid: twilioAccount.accountSid,
      From: from,
      To: to,
      Body: body,
    };
    return agentOf(server)
      .post(path)
      .type('form')
      .set(
        'X-Twilio-Signature',
        twilio.getExpectedTwilioSignature(twilioAccount.authToken, `${publicUrl}${path}`, params),
      )
      .send(new URLSearchParams(params).toString());
  };
}

/**
 * A browser without JavaScript, reduced to what the dashboard needs: a cookie jar that checks
 * every cookie it is given is HttpOnly, Secure, SameSite=Lax and for the whole site, and
 * form posts (repeated fields for checkboxes).
 */
export class StaffBrowser {
  readonly cookies = new Map<string, string>();
  constructor(private readonly server: HttpServer) {}

  keep(res: request.Response): request.Response {
    const set = res.headers['set-cookie'] as unknown as string[] | undefined;
    for (const c of set ?? []) {
      const [pair, ...attrs] = c.split(';');
      const [name, value] = pair!.split('=');
      expect(attrs.map((a) => a.trim().toLowerCase())).toEqual(
        expect.arrayContaining(['httponly', 'secure', 'samesite=lax', 'path=/']),
      );
      if (/max-age=0/i.test(c)) this.cookies.delete(name!);
      else this.cookies.set(name!, value!);
    }
    return res;
  }

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async get(path: string): Promise<request.Response> {
    return this.keep(await agentOf(this.server).get(path).set('Cookie', this.header()));
  }

  async post(path: string, form: Record<string, string | string[]>): Promise<request.Response> {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(form))
      for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
    return this.keep(
      await agentOf(this.server)
        .post(path)
        .set('Cookie', this.header())
        .type('form')
        .send(body.toString()),
    );
  }

  /** The CSRF token in a page's first form. */
  static csrf(html: string): string {
    return /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
  }
}

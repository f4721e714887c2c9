import { describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { loadConfig } from '../config/index.js';
import { SenderResolver, type ClinicDirectory, type ClinicIdentity } from './sender-resolver.js';

const CLINIC = 'b7e4d2a0-1c3f-4a5b-8d6e-9f0a1b2c3d4e';
const ENV = {
  APP_SECRET: 'x'.repeat(40),
  SENDER_NAME: 'Back Tips',
  SENDER_ADDRESS: '9 Mill Lane, Hebden',
  MAIL_FROM: 'Back Tips <tips@backtips.example>',
  MAIL_REPLY_TO: 'help@backtips.example',
};

const riverside: ClinicIdentity = {
  name: 'Riverside Chiropractic',
  chiropractorName: 'Dr. Lee',
  replyTo: 'desk@riverside.example',
  phone: '+1 555 010 0199',
  postalAddress: '12 River Road, Springfield',
  bookingUrl: 'https://riverside.example/book',
  smsFrom: '+15550100199',
  logoUrl: 'https://riverside.example/logo.png',
};

/** A resolver with a directory plugged in, as the clinics module does at start-up. */
const withDirectory = (config: ReturnType<typeof loadConfig>, d: ClinicDirectory) => {
  const senders = new SenderResolver(config);
  senders.useDirectory(d);
  return senders;
};

const directory = (clinics: Record<string, ClinicIdentity>): ClinicDirectory => ({
  find: async (id) => clinics[id],
});

describe('SenderResolver', () => {
  it("is the service's own identity from config without a clinic", async () => {
    const senders = new SenderResolver(loadConfig(ENV));
    const own = {
      clinicId: null,
      name: 'Back Tips',
      isClinic: false,
      chiropractor: null,
      phone: null,
      bookingUrl: null,
      replyTo: 'help@backtips.example',
      address: '9 Mill Lane, Hebden',
      mailFrom: 'Back Tips <tips@backtips.example>',
      smsFrom: null,
      logoUrl: null,
    };
    expect(senders.own()).toEqual(own);
    expect(await senders.resolve(null)).toEqual(own);
  });

  it('sends SMS from TWILIO_FROM and has no reply-to without MAIL_REPLY_TO', () => {
    const senders = new SenderResolver(
      loadConfig({
        ...ENV,
        MAIL_REPLY_TO: undefined,
        TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
        TWILIO_AUTH_TOKEN: 'secret',
        TWILIO_FROM: '+15005550006',
      }),
    );
    expect(senders.own()).toMatchObject({ smsFrom: '+15005550006', replyTo: null });
  });

  it("is the clinic's identity when the directory knows the clinic", async () => {
    const senders = withDirectory(loadConfig(ENV), directory({ [CLINIC]: riverside }));
    expect(await senders.resolve(CLINIC)).toEqual({
      clinicId: CLINIC,
      name: 'Riverside Chiropractic',
      isClinic: true,
      chiropractor: 'Dr. Lee',
      phone: '+1 555 010 0199',
      bookingUrl: 'https://riverside.example/book',
      replyTo: 'desk@riverside.example',
      address: '12 River Road, Springfield',
      mailFrom: 'Back Tips <tips@backtips.example>',
      smsFrom: '+15550100199',
      logoUrl: 'https://riverside.example/logo.png',
    });
  });

  it("fills a clinic's missing reply-to, address and number with the service's", async () => {
    const bare = { ...riverside, replyTo: null, postalAddress: null, smsFrom: null };
    const senders = withDirectory(loadConfig(ENV), directory({ [CLINIC]: bare }));
    expect(await senders.resolve(CLINIC)).toMatchObject({
      isClinic: true,
      replyTo: 'help@backtips.example',
      address: '9 Mill Lane, Hebden',
      smsFrom: null,
    });
  });

  it('is the service for a clinic it cannot find, or with no directory', async () => {
    const config = loadConfig(ENV);
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const own = new SenderResolver(config).own();
    expect(await new SenderResolver(config).resolve(CLINIC)).toEqual(own);
    expect(await withDirectory(config, directory({})).resolve(CLINIC)).toEqual(own);
    expect(warn).toHaveBeenCalledTimes(2);
    warn.mockRestore();
  });
});

import type { MailMessage } from '../accounts/mailer.ts';
import type { PageContext } from './context.ts';

export function verificationMessage(to: string, link: string): MailMessage {
  return {
    to,
    subject: 'Confirm your email address',
    text: `Hello,

confirm your email address for Gatehouse by opening this link:

${link}

The link works once and expires in 24 hours. If you did not create an account, ignore this message.
`,
  };
}

export function alreadyRegisteredMessage(to: string, signInHint: string): MailMessage {
  return {
    to,
    subject: 'You already have an account',
    text: `Hello,

someone (hopefully you) tried to create a Gatehouse account with this email address, but you already have one.
${signInHint}
If that was not you, ignore this message; nothing has changed.
`,
  };
}

export function resetMessage(to: string, link: string): MailMessage {
  return {
    to,
    subject: 'Reset your password',
    text: `Hello,

to choose a new Gatehouse password, open this link:

${link}

The link works once and expires in 1 hour. If you did not ask for it, ignore this message; your password stays the same.
`,
  };
}

/**
 * Runs mail work after the response: the answer then takes the same time whether or not an
 * email is registered (no lookup, token or SMTP round trip on the request path).
 */
export function afterResponse(deps: PageContext, what: string, work: () => Promise<void>): void {
  setImmediate(() => {
    work().catch((err: unknown) => {
      deps.log.warn({ err: err instanceof Error ? err.message : String(err) }, `${what} failed`);
    });
  });
}

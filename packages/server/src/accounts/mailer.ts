import { createTransport } from 'nodemailer';
import type { Config } from '../config/config.ts';

export interface MailMessage {
  readonly to: string;
  readonly subject: string;
  /** Plain text; the links in it are what the tests and people follow. */
  readonly text: string;
}

/** Sends the verification and reset emails. */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
  /**
   * Messages kept in this process when no `SMTP_URL` is set (development), newest last.
   * Always empty when sending through SMTP.
   */
  readonly outbox: readonly MailMessage[];
  close(): Promise<void>;
}

/** Where a development mailer prints; defaults to the console. */
export interface MailLog {
  info(message: string): void;
}

const OUTBOX_LIMIT = 100;

/**
 * `SMTP_URL` set → nodemailer over SMTP; otherwise every message is printed to the log and
 * kept in `mailer.outbox` (development only: `loadConfig` does not require SMTP, so a
 * production deployment without it would silently not mail; the log line says so).
 *
 * @example
 * const mailer = createMailer(config);
 * await mailer.send({ to: 'ada@example.com', subject: 'Reset your password', text: '…' });
 */
export function createMailer(
  config: Pick<Config, 'smtpUrl' | 'issuer'> & Partial<Pick<Config, 'env'>>,
  log: MailLog = { info: (message) => console.info(message) },
): Mailer {
  const from = `Gatehouse <no-reply@${new URL(config.issuer).hostname}>`;
  if (config.smtpUrl) {
    const transport = createTransport(config.smtpUrl);
    return {
      outbox: [],
      async send(message) {
        await transport.sendMail({ from, to: message.to, subject: message.subject, text: message.text });
      },
      async close() {
        transport.close();
      },
    };
  }
  const outbox: MailMessage[] = [];
  return {
    outbox,
    async send(message) {
      outbox.push(message);
      if (outbox.length > OUTBOX_LIMIT) outbox.shift();
      // The body carries single-use verification and reset links: print it for a developer,
      // never into a production log.
      const body = config.env === 'production' ? '' : `\n${message.text}`;
      log.info(`mail (no SMTP_URL, not sent) to=${message.to} subject="${message.subject}"${body}`);
    },
    async close() {},
  };
}

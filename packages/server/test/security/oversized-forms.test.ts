import { suiteGatehouse } from '@gatehouse/testkit/server';
import { authorizationUrl, oauthClient, pkce } from '@gatehouse/testkit/sign-in';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.ts';
import { requestLogger } from '../../src/observability/request-log.ts';

/** Just over the 16 KiB a page form may have. */
const OVERSIZED = `csrf=x&xsrf=x&email=a%40example.com&padding=${'a'.repeat(17 * 1024)}`;

const lines: Record<string, unknown>[] = [];
let interactionUid: string;
const log = createLogger(
  { env: 'test' },
  { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  { level: 'debug' },
);
const gh = suiteGatehouse({ gatehouse: { outerMiddleware: [requestLogger(log)] } });

beforeAll(async () => {
  // A real sign-in in progress, so the interaction forms post to a live interaction.
  const client = await oauthClient(gh.issuer, 'spa');
  const started = await fetch(authorizationUrl(client, await pkce()), { redirect: 'manual' });
  interactionUid = /\/interaction\/([\w-]+)/.exec(started.headers.get('location') ?? '')?.[1] ?? '';
});

const PAGE_FORMS = [
  ['sign-in', () => `/interaction/${interactionUid}/login`],
  ['consent', () => `/interaction/${interactionUid}/confirm`],
  ['cancel sign-in', () => `/interaction/${interactionUid}/abort`],
  ['sign-up', () => '/register'],
  ['forgot password', () => '/forgot-password'],
  ['reset password', () => '/reset-password'],
  ['email confirmation', () => '/verify-email'],
  ['resend email confirmation', () => '/verify-email/resend'],
  ['device code', () => '/device'],
  ['sign-out', () => '/session/end/confirm'],
] as const;

describe('page forms over 16 KiB', () => {
  it.each(PAGE_FORMS)(
    'the %s form answers 413 with the normal page, its headers and a request-log line',
    async (_name, path) => {
      const response = await fetch(`${gh.issuer}${path()}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: OVERSIZED,
      });
      const body = await response.text();
      expect(response.status).toBe(413);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(body).toMatch(/^<!doctype html>/i);
      expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      const requestId = response.headers.get('x-request-id');
      expect(requestId).toBeTruthy();
      expect(lines).toContainEqual(
        expect.objectContaining({ msg: 'request', requestId, method: 'POST', status: 413 }),
      );
    },
  );
});

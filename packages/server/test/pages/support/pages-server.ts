import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { freePort } from '@gatehouse/testkit';
import Koa from 'koa';
import { type AccountStore, createMailer, type Mailer } from '../../../src/accounts/index.ts';
import { loadConfig } from '../../../src/config/config.ts';
import { createPageRoutes } from '../../../src/pages/index.ts';
import { createRateLimiter } from '../../../src/security/index.ts';
import { securityHeaders } from '../../../src/security/security-headers.ts';

/** The pages alone (no provider) on a free port, with the in-process outbox and rate limiter. */
export interface PagesServer {
  readonly origin: string;
  readonly mailer: Mailer;
  /**
   * Every account-store call, as `request:<method>` while a response was being produced and
   * `after:<method>` once it was finished.
   */
  readonly calls: readonly string[];
  close(): Promise<void>;
}

/**
 * Serves `createPageRoutes` over `accounts` for pages that never reach oidc-provider
 * (forgot-password, confirmation links), recording when each account lookup happens.
 *
 * @example
 * const pages = await startPagesServer(createAccountStore({ kind: 'memory' }));
 */
export async function startPagesServer(accounts: AccountStore): Promise<PagesServer> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    NODE_ENV: 'test',
    ISSUER: origin,
    GATEHOUSE_SECRET: randomBytes(32).toString('hex'),
  });
  const mailer = createMailer({ smtpUrl: undefined, issuer: origin }, { info: () => {} });
  const calls: string[] = [];
  let phase: 'request' | 'after' = 'request';
  const recording = new Proxy(accounts, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(`${phase}:${String(name)}`);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const app = new Koa();
  app.use(async (_ctx, next) => {
    phase = 'request';
    await next();
    // Koa sends the response once this chain settles; anything later is off the request path.
    phase = 'after';
  });
  // As in the server, where the app applies them around every response.
  app.use(securityHeaders());
  app.use(
    createPageRoutes({
      provider: () => {
        throw new Error('these pages never reach the provider');
      },
      accounts: recording,
      config,
      mailer,
      limiter: createRateLimiter({ kind: 'memory' }),
      revokeGrant: () => Promise.reject(new Error('these pages have no grants to revoke')),
    }),
  );
  const server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    origin,
    mailer,
    calls,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

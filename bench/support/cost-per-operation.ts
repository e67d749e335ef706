import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { freePort } from '@gatehouse/testkit';
import { basic, REDIRECT_URI, WEB_SECRET } from '@gatehouse/testkit/clients';
import {
  accountFor,
  signInThroughPages,
  startInteractionDriver,
  TEST_PASSWORD,
} from '@gatehouse/testkit/sign-in';
import { Redis } from 'ioredis';
import { serviceTokenRequest } from './clients.ts';
import { OPERATIONS, type Operation, type OperationCost } from './cost-budget.ts';
import { BENCH_SECRET, type GatehouseProcess, startGatehouseProcess } from './gatehouse-process.ts';

const HOOK = fileURLToPath(new URL('./redis-round-trips-hook.ts', import.meta.url));

interface Snapshot {
  readonly writes: number;
  readonly commands: Record<string, number>;
}

/** Commands executed so far by name, without INFO (the measurement's own command). */
async function commandStats(redis: Redis): Promise<Record<string, number>> {
  const info = await redis.info('commandstats');
  const counts: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (match[1] !== 'info') counts[match[1]!] = Number(match[2]);
  }
  return counts;
}

/** Captures the token request that {@link signInThroughPages} ends with, so the bench can redeem the code itself. */
async function startCodeCatcher(): Promise<{ url: string; next(): Promise<URLSearchParams>; close(): void }> {
  const port = await freePort();
  let waiting: ((form: URLSearchParams) => void) | undefined;
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on('end', () => {
      waiting?.(new URLSearchParams(body));
      response.setHeader('content-type', 'application/json');
      response.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}/token`,
    next: () =>
      new Promise((resolve) => {
        waiting = resolve;
      }),
    close: () => server.close(),
  };
}

/**
 * Redis round trips and commands per operation, counted rather than timed: a Gatehouse process of
 * its own on the Redis at `redisUrl` (which nothing else may use meanwhile), with
 * `redis-round-trips-hook.ts` preloaded to count its writes to Redis, and `INFO commandstats`
 * deltas for the commands. Each operation runs once unmeasured (the first use of a client's
 * credentials, loading Lua scripts), then `times` times measured, one at a time; the figures are
 * per operation.
 */
export async function measureCostPerOperation(options: {
  redisUrl: string;
  times: number;
  log?: (message: string) => void;
}): Promise<Record<Operation, OperationCost>> {
  const { redisUrl, times } = options;
  const counterPort = await freePort();
  const accounts = Math.max(1, times + 1);
  // The account exists before the server starts: its creation (argon2, Redis writes) is not measured.
  const redis = new Redis(redisUrl, { lazyConnect: true });
  await redis.connect();
  let gatehouse: GatehouseProcess | undefined;
  const catcher = await startCodeCatcher();
  try {
    gatehouse = await startGatehouseProcess({
      redisUrl,
      env: { BENCH_REDIS_PORT: String(new URL(redisUrl).port), BENCH_ROUND_TRIPS_PORT: String(counterPort) },
      flags: [`--import=${HOOK}`],
    });
    const issuer = gatehouse.issuer;
    const driver = await startInteractionDriver({ issuer, redisUrl, secret: BENCH_SECRET });
    const emails: string[] = [];
    for (let i = 0; i < accounts; i++) {
      await accountFor(driver, `cost-${i}`);
      emails.push(`cost-${i}@reliability.test`);
    }
    await driver.close();

    const snapshot = async (): Promise<Snapshot> => {
      const [counter, commands] = await Promise.all([
        fetch(`http://127.0.0.1:${counterPort}/`).then((r) => r.json() as Promise<{ writes: number }>),
        commandStats(redis),
      ]);
      return { writes: counter.writes, commands };
    };
    const totals = new Map<Operation, { writes: number; commands: Record<string, number> }>();
    const add = (operation: Operation, before: Snapshot, after: Snapshot) => {
      const entry = totals.get(operation) ?? { writes: 0, commands: {} };
      totals.set(operation, entry);
      entry.writes += after.writes - before.writes;
      for (const [name, calls] of Object.entries(after.commands)) {
        const delta = calls - (before.commands[name] ?? 0);
        if (delta > 0) entry.commands[name] = (entry.commands[name] ?? 0) + delta;
      }
    };
    const expectStatus = async (what: string, response: Response, status = 200) => {
      if (response.status !== status)
        throw new Error(`${what} answered ${response.status}: ${await response.text()}`);
      return response;
    };
    const webAuth = basic('web', WEB_SECRET);
    const form = (fields: Record<string, string>) => ({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...webAuth },
      body: new URLSearchParams(fields).toString(),
    });

    for (let i = 0; i <= times; i++) {
      const measured = i > 0;
      const record = (operation: Operation, before: Snapshot, after: Snapshot) => {
        if (measured) add(operation, before, after);
      };
      // Client credentials.
      let s0 = await snapshot();
      await expectStatus('client credentials', await fetch(`${gatehouse.url}/token`, serviceTokenRequest));
      let s1 = await snapshot();
      record('client-credentials grant', s0, s1);

      // Sign-in through the pages as the confidential `web` client; the code is caught, then redeemed here.
      s0 = await snapshot();
      const caught = catcher.next();
      const signIn = await signInThroughPages({
        issuer,
        email: emails[i]!,
        password: TEST_PASSWORD,
        tokenUrl: catcher.url,
        client: { id: 'web', redirectUri: REDIRECT_URI },
      });
      if (signIn.stoppedAt)
        throw new Error(`sign-in stopped: ${signIn.stoppedAt.status} ${signIn.stoppedAt.body}`);
      const code = await caught;
      s1 = await snapshot();
      record('sign-in pages (authorize → code)', s0, s1);
      const exchange = await expectStatus(
        'code exchange',
        await fetch(
          `${gatehouse.url}/token`,
          form({
            grant_type: 'authorization_code',
            code: code.get('code')!,
            redirect_uri: REDIRECT_URI,
            code_verifier: code.get('code_verifier')!,
          }),
        ),
      );
      const tokens = (await exchange.json()) as { access_token: string; refresh_token: string };
      const s2 = await snapshot();
      record('code exchange', s1, s2);
      record('full sign-in (authorize → sign-in page → consent → code → token)', s0, s2);

      s0 = await snapshot();
      const refreshed = await expectStatus(
        'refresh',
        await fetch(
          `${gatehouse.url}/token`,
          form({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }),
        ),
      );
      const rotated = (await refreshed.json()) as { access_token: string; refresh_token: string };
      s1 = await snapshot();
      record('refresh (rotation)', s0, s1);

      for (const [operation, token] of [
        ['introspection of a JWT access token', rotated.access_token],
        ['introspection of an opaque refresh token', rotated.refresh_token],
      ] as const) {
        s0 = await snapshot();
        const answer = await expectStatus(
          'introspection',
          await fetch(`${gatehouse.url}/introspect`, form({ token })),
        );
        if (((await answer.json()) as { active?: boolean }).active !== true)
          throw new Error(`${operation}: inactive`);
        s1 = await snapshot();
        record(operation, s0, s1);
      }

      s0 = await snapshot();
      await expectStatus(
        'revocation',
        await fetch(
          `${gatehouse.url}/revoke`,
          form({ token: rotated.refresh_token, token_type_hint: 'refresh_token' }),
        ),
      );
      s1 = await snapshot();
      record('revocation of a refresh token', s0, s1);
    }

    const per = (n: number) => Math.round((n / times) * 100) / 100;
    return Object.fromEntries(
      OPERATIONS.map((operation) => {
        const entry = totals.get(operation) ?? { writes: 0, commands: {} };
        const byCommand = Object.fromEntries(
          Object.entries(entry.commands)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([name, calls]) => [name, per(calls)]),
        );
        const commands = per(Object.values(entry.commands).reduce((a, b) => a + b, 0));
        return [operation, { roundTrips: per(entry.writes), commands, byCommand }];
      }),
    ) as Record<Operation, OperationCost>;
  } finally {
    catcher.close();
    await gatehouse?.stop();
    redis.disconnect();
  }
}

import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GatehouseServer } from '@gatehouse/server';
import { type RedisProcess, startRedis } from '@gatehouse/testkit';
import { basic, SERVICE_SECRET } from '@gatehouse/testkit/clients';
import { type GatehouseProcess, startGatehouseProcess } from '@gatehouse/testkit/process';
import { refreshSpa, signInSpa, startInteractionDriver } from '@gatehouse/testkit/sign-in';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latencySummary } from '../support/measure.ts';

const SLOW_REQUESTS = 10;
const LOAD_WORKERS = 4;

/**
 * A request whose body arrives in two parts: the server has accepted the connection and is
 * reading the request when SIGTERM comes; the last byte is sent afterwards. Such a request is
 * unambiguously in flight, whatever the machine's speed.
 */
function slowRequest(port: number, path: string, body: string) {
  const socket: Socket = connect({ port, host: '127.0.0.1' });
  const head = [
    `POST ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    'Content-Type: application/x-www-form-urlencoded',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    '',
  ].join('\r\n');
  const connected = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  let raw = '';
  const response = new Promise<{ raw: string; error?: string }>((resolve) => {
    socket.on('data', (d: Buffer) => {
      raw += d.toString();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve({ raw, error: err.code ?? err.message }));
    socket.on('close', () => resolve({ raw }));
  });
  socket.write(head + body.slice(0, -1));
  return { connected, response, finish: () => socket.write(body.slice(-1)) };
}

/** Status, headers and JSON body of a raw HTTP/1.1 response with Content-Length (or undefined). */
function parseResponse(raw: string) {
  const split = raw.indexOf('\r\n\r\n');
  if (split < 0) return undefined;
  const [statusLine = '', ...headerLines] = raw.slice(0, split).split('\r\n');
  const headers = new Map(
    headerLines.map((line) => {
      const at = line.indexOf(':');
      return [line.slice(0, at).trim().toLowerCase(), line.slice(at + 1).trim()] as const;
    }),
  );
  const body = raw.slice(split + 4);
  const complete = Buffer.byteLength(body) === Number(headers.get('content-length'));
  return { status: Number(statusLine.split(' ')[1]), headers, body, complete };
}

interface LoadResult {
  readonly connectedAt: number | undefined;
  readonly start: number;
  readonly end: number;
  readonly status?: number;
  readonly error?: string;
}

/** One client-credentials request on its own connection (no keep-alive: outcomes per request). */
function tokenRequest(port: number): Promise<LoadResult> {
  const start = performance.now();
  let connectedAt: number | undefined;
  const body = 'grant_type=client_credentials&scope=recipes%3Aread';
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/token',
        agent: false,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          ...basic('service', SERVICE_SECRET),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ connectedAt, start, end: performance.now(), status: res.statusCode ?? 0 }),
        );
        res.on('error', (err: NodeJS.ErrnoException) =>
          resolve({ connectedAt, start, end: performance.now(), error: err.code ?? err.message }),
        );
      },
    );
    req.on('socket', (socket) =>
      socket.once('connect', () => {
        connectedAt = performance.now();
      }),
    );
    req.on('error', (err: NodeJS.ErrnoException) =>
      resolve({ connectedAt, start, end: performance.now(), error: err.code ?? err.message }),
    );
    req.end(body);
  });
}

describe('graceful shutdown: SIGTERM under load', () => {
  let redis: RedisProcess;
  let gh: GatehouseProcess;
  let driver: GatehouseServer;
  let inspect: Redis;

  beforeAll(async () => {
    redis = await startRedis({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    gh = await startGatehouseProcess({ redisUrl: redis.url });
    driver = await startInteractionDriver({ issuer: gh.issuer, redisUrl: redis.url });
    inspect = new Redis(redis.url);
    await inspect.client('SETNAME', 'test-inspector');
  });
  afterAll(async () => {
    inspect?.disconnect();
    await driver?.close();
    await gh?.cleanup();
    await redis?.cleanup();
  });

  it('stops accepting, finishes every in-flight request (Redis writes included), closes Redis, exits 0', async () => {
    const refreshTokens: string[] = [];
    for (let i = 0; i < SLOW_REQUESTS; i++) {
      const { token } = await signInSpa(driver, { tokenUrl: `${gh.url}/token`, account: `shutdown-${i}` });
      refreshTokens.push(String(token?.body.refresh_token));
    }
    // The test's own driver holds a Redis connection too; only the server's should matter below.
    await driver.close();
    const serverClients = async () =>
      String(await inspect.call('CLIENT', 'LIST'))
        .split('\n')
        .filter((line) => line.includes('addr=') && !line.includes('name=test-inspector')).length;
    const clientsBefore = await serverClients();

    // Background load: client-credentials requests, each on a fresh connection.
    let stopped = false;
    const results: LoadResult[] = [];
    const loadWorker = async () => {
      while (!stopped) {
        const result = await tokenRequest(gh.port);
        results.push(result);
        if (result.error === 'ECONNREFUSED') stopped = true;
      }
    };
    const workers = Array.from({ length: LOAD_WORKERS }, loadWorker);
    await sleep(1_000);

    // In flight: refresh-token rotations whose last body byte is still to come.
    const slow = refreshTokens.map((token) =>
      slowRequest(
        gh.port,
        '/token',
        new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: token,
          client_id: 'spa',
        }).toString(),
      ),
    );
    await Promise.all(slow.map((s) => s.connected));
    // The server accepts and starts reading them (generous: the machine is shared).
    await sleep(500);

    const sigtermAt = performance.now();
    const exit = gh.stop('SIGTERM');
    await sleep(500);
    // It stopped accepting: a new connection is refused while the old ones are still served.
    const refused = await fetch(`${gh.url}/healthz`).then(
      () => 'accepted',
      (err: unknown) => String((err as { cause?: { code?: string } }).cause?.code),
    );
    expect(gh.alive()).toBe(true);
    for (const s of slow) s.finish();
    const answers = await Promise.all(slow.map((s) => s.response));
    const { code, signal } = await exit;
    const exitedAt = performance.now();
    stopped = true;
    await Promise.all(workers);

    // Every in-flight rotation completed with a full 200 and a new refresh token.
    const parsed = answers.map((a) => ({ error: a.error, response: parseResponse(a.raw) }));
    for (const { error, response } of parsed) {
      expect(error).toBeUndefined();
      expect(response?.complete).toBe(true);
      expect(response?.status).toBe(200);
      expect(JSON.parse(response?.body ?? '{}').refresh_token).toEqual(expect.any(String));
    }
    expect(refused).toBe('ECONNREFUSED');
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    // Redis was closed by the server (QUIT), not left to time out.
    expect(await serverClients()).toBe(0);
    expect(gh.output()).not.toMatch(/"level":(50|60)/);

    // Load requests connected well before SIGTERM were accepted and are in flight: all answered.
    // A connection made just before SIGTERM may still sit in the kernel's accept queue when the
    // listener closes; Linux resets those (Gatehouse never saw them). Node's server.close() does
    // the same to accepted-but-unparsed sockets (closeIdleConnections). Both are logged, and the
    // remedy (a drain delay before closing the listener) is in the reliability report.
    const inFlight = results.filter((r) => r.connectedAt !== undefined && r.connectedAt < sigtermAt - 250);
    const afterSigterm = results.filter((r) => r.start >= sigtermAt);
    const errors: Record<string, number> = {};
    for (const r of results) if (r.error) errors[r.error] = (errors[r.error] ?? 0) + 1;
    console.log(
      [
        `shutdown: SIGTERM → exit ${(exitedAt - sigtermAt).toFixed(0)} ms (includes the 500 ms the test waited before sending the last bytes)`,
        `load: ${results.length} requests, ${results.filter((r) => r.status === 200).length} × 200, errors ${JSON.stringify(errors)}; started after SIGTERM: ${afterSigterm.length}`,
        `load latency (200s): ${latencySummary(results.filter((r) => r.status === 200).map((r) => r.end - r.start))}`,
        `slow in-flight rotations: ${parsed.filter((p) => p.response?.status === 200).length}/${SLOW_REQUESTS} answered 200; connection header: ${parsed[0]?.response?.headers.get('connection')}`,
        `Redis connections of the server: ${clientsBefore} before, ${await serverClients()} after exit`,
        `resets (ms relative to SIGTERM: connected, failed): ${JSON.stringify(results.filter((r) => r.error === 'ECONNRESET').map((r) => [Math.round((r.connectedAt ?? Number.NaN) - sigtermAt), Math.round(r.end - sigtermAt)]))}`,
      ].join('\n'),
    );
    expect(inFlight.filter((r) => r.status !== 200)).toEqual([]);
    expect(results.filter((r) => r.status !== undefined && r.status >= 500)).toEqual([]);
    // Any other failure is a reset of a connection made around SIGTERM (see above), at most one per worker.
    const resets = results.filter((r) => r.error !== undefined && r.error !== 'ECONNREFUSED');
    expect(
      resets.every((r) => r.error === 'ECONNRESET' && (r.connectedAt ?? sigtermAt) >= sigtermAt - 250),
    ).toBe(true);

    // The rotations finished during shutdown were written: they rotate again on a new process.
    gh = await startGatehouseProcess({ redisUrl: redis.url, port: gh.port });
    const successor = JSON.parse(parsed[0]?.response?.body ?? '{}') as { refresh_token: string };
    expect((await refreshSpa(`${gh.url}/token`, successor.refresh_token)).status).toBe(200);
  }, 90_000);
});

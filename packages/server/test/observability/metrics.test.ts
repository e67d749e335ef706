import { freePort, type RedisProcess, startRedis } from '@gatehouse/testkit';
import { basic, SERVICE_SECRET } from '@gatehouse/testkit/clients';
import { postForm } from '@gatehouse/testkit/forms';
import { type StartedGatehouse, startGatehouse } from '@gatehouse/testkit/server';
import { signIn } from '@gatehouse/testkit/sign-in';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REQUEST_TIMEOUTS } from '../../src/http/request-timeouts.ts';
import {
  createMetrics,
  createObservability,
  type Observability,
  startMetricsServer,
} from '../../src/observability/index.ts';
import { createLogger } from '../../src/observability/logger.ts';

const silent = () => createLogger({ env: 'test' }, { write: () => {} }, { level: 'silent' });

async function scrape(url: string): Promise<string> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  return response.text();
}

/** The value of one sample line, e.g. `gatehouse_redis_up 1`, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('/metrics on the application port', () => {
  let redis: RedisProcess;
  let gh: StartedGatehouse;
  let obs: Observability;

  beforeAll(async () => {
    redis = await startRedis();
    obs = createObservability({ metricsPort: undefined }, silent());
    gh = await startGatehouse({
      redis,
      gatehouse: { outerMiddleware: obs.outerMiddleware, onProviderCreated: obs.onProviderCreated },
    });
    obs.watchStore(gh.server.store);
  });
  afterAll(async () => {
    await obs?.close();
    await gh?.stop();
    await redis?.cleanup();
  });

  it('counts a client-credentials token under its grant type and client id', async () => {
    const issued = await postForm(
      `${gh.issuer}/token`,
      { grant_type: 'client_credentials', scope: 'recipes:read' },
      basic('service', SERVICE_SECRET),
    );
    expect(issued.status).toBe(200);
    const text = await scrape(`${gh.issuer}/metrics`);
    expect(
      sample(text, 'gatehouse_tokens_issued_total{grant_type="client_credentials",client_id="service"}'),
    ).toBe(1);
  });

  it('counts a bad refresh under its OAuth error code and route, and a replay as a replay', async () => {
    const bad = await postForm(`${gh.issuer}/token`, {
      grant_type: 'refresh_token',
      refresh_token: 'not-a-refresh-token-at-all-0123456789',
      client_id: 'spa',
    });
    expect(bad.body.error).toBe('invalid_grant');
    let text = await scrape(`${gh.issuer}/metrics`);
    expect(sample(text, 'gatehouse_oauth_errors_total{error="invalid_grant",route="token"}')).toBe(1);
    expect(sample(text, 'gatehouse_refresh_replays_total')).toBe(0);

    const { refreshToken } = await signIn(gh.server, gh.issuer);
    const form = { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'spa' };
    expect((await postForm(`${gh.issuer}/token`, form)).status).toBe(200);
    expect((await postForm(`${gh.issuer}/token`, form)).body.error).toBe('invalid_grant');
    text = await scrape(`${gh.issuer}/metrics`);
    expect(sample(text, 'gatehouse_refresh_replays_total')).toBe(1);
    expect(sample(text, 'gatehouse_oauth_errors_total{error="invalid_grant",route="token"}')).toBe(2);
    expect(
      sample(text, 'gatehouse_tokens_issued_total{grant_type="authorization_code",client_id="spa"}'),
    ).toBe(1);
    expect(sample(text, 'gatehouse_tokens_issued_total{grant_type="refresh_token",client_id="spa"}')).toBe(1);
    expect(sample(text, 'gatehouse_grants_revoked_total')).toBeGreaterThanOrEqual(1);
  });

  it('counts the losers of a concurrent refresh race as replays', async () => {
    const before = sample(await scrape(`${gh.issuer}/metrics`), 'gatehouse_refresh_replays_total') ?? 0;
    const { refreshToken } = await signIn(gh.server, gh.issuer);
    const form = { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'spa' };
    const results = await Promise.all(Array.from({ length: 8 }, () => postForm(`${gh.issuer}/token`, form)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    const after = sample(await scrape(`${gh.issuer}/metrics`), 'gatehouse_refresh_replays_total') ?? 0;
    expect(after - before).toBeGreaterThanOrEqual(1);
  });

  it('counts failed client authentication', async () => {
    await postForm(
      `${gh.issuer}/token`,
      { grant_type: 'client_credentials' },
      basic('service', 'wrong-secret'),
    );
    const text = await scrape(`${gh.issuer}/metrics`);
    expect(sample(text, 'gatehouse_client_auth_failures_total{route="token"}')).toBe(1);
    expect(sample(text, 'gatehouse_oauth_errors_total{error="invalid_client",route="token"}')).toBe(1);
  });

  it('has request latency histograms by normalized route, method and status', async () => {
    await fetch(`${gh.issuer}/healthz?code=abc`);
    const text = await scrape(`${gh.issuer}/metrics`);
    expect(text).toContain('# TYPE gatehouse_http_request_duration_seconds histogram');
    expect(
      sample(text, 'gatehouse_http_request_duration_seconds_count{route="token",method="POST",status="200"}'),
    ).toBeGreaterThanOrEqual(2);
    expect(
      sample(
        text,
        'gatehouse_http_request_duration_seconds_count{route="/healthz",method="GET",status="200"}',
      ),
    ).toBe(1);
    expect(text).toMatch(
      /gatehouse_http_request_duration_seconds_bucket\{le="0\.1",route="token",method="POST",status="200"\} \d+/,
    );
    expect(text).not.toContain('code=abc');
  });

  it('times Redis commands and reports process metrics', async () => {
    const text = await scrape(`${gh.issuer}/metrics`);
    expect(text).toMatch(
      /gatehouse_redis_command_duration_seconds_count\{command="\w+",outcome="ok"\} [1-9]/,
    );
    expect(text).toContain('gatehouse_process_resident_memory_bytes');
  });

  it('gatehouse_redis_up is 1 while Redis answers and 0 once it is gone', async () => {
    expect(sample(await scrape(`${gh.issuer}/metrics`), 'gatehouse_redis_up')).toBe(1);
    await redis.stop();
    expect(sample(await scrape(`${gh.issuer}/metrics`), 'gatehouse_redis_up')).toBe(0);
  });
});

describe('METRICS_PORT', () => {
  let gh: StartedGatehouse;
  let obs: Observability;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    obs = createObservability({ metricsPort: port }, silent());
    gh = await startGatehouse({
      gatehouse: { outerMiddleware: obs.outerMiddleware, onProviderCreated: obs.onProviderCreated },
    });
    obs.watchStore(gh.server.store);
  });
  afterAll(async () => {
    await obs?.close();
    await gh?.stop();
  });

  it('serves the metrics on their own port and not on the application port', async () => {
    const url = await obs.start();
    expect(url).toBe(`http://localhost:${port}/metrics`);
    await postForm(
      `${gh.issuer}/token`,
      { grant_type: 'client_credentials' },
      basic('service', SERVICE_SECRET),
    );
    const text = await scrape(String(url));
    expect(
      sample(text, 'gatehouse_tokens_issued_total{grant_type="client_credentials",client_id="service"}'),
    ).toBe(1);
    // The in-process store has no Redis to report on.
    expect(text).not.toContain('gatehouse_redis_up');
    expect((await fetch(`${gh.issuer}/metrics`)).status).toBe(404);
  });
});

describe('label cardinality', () => {
  it('keeps at most maxClientLabels client ids; the rest are "other", none "unknown"', () => {
    const metrics = createMetrics({ maxClientLabels: 2, processMetrics: false });
    expect(metrics.clientLabel(undefined)).toBe('unknown');
    expect(metrics.clientLabel('a')).toBe('a');
    expect(metrics.clientLabel('b')).toBe('b');
    expect(metrics.clientLabel('c')).toBe('other');
    expect(metrics.clientLabel('a')).toBe('a');
  });

  it('watching a second connection replaces the first (one redis_up series)', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const down = { ping: () => Promise.reject(new Error('closed')) } as unknown as Parameters<
      typeof metrics.watchRedis
    >[0];
    metrics.watchRedis(down);
    metrics.watchRedis(down);
    const text = await metrics.registry.metrics();
    expect(text.match(/^gatehouse_redis_up /gm)).toHaveLength(1);
    expect(text).toContain('gatehouse_redis_up 0');
    metrics.close();
  });

  it('startMetricsServer answers GET only, with the request time limits of the issuer port', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const server = await startMetricsServer(metrics, 0, '127.0.0.1');
    try {
      expect(server.server.headersTimeout).toBe(REQUEST_TIMEOUTS.headersMs);
      expect(server.server.requestTimeout).toBe(REQUEST_TIMEOUTS.requestMs);
      expect((await fetch(server.url, { method: 'POST' })).status).toBe(405);
      expect(await (await fetch(server.url)).text()).toContain('gatehouse_tokens_issued_total');
    } finally {
      await server.close();
    }
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

const secret = 'x'.repeat(32);

describe('loadConfig', () => {
  it('defaults to development on the in-process store at :4000', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: 'development',
      port: 4000,
      issuer: 'http://localhost:4000',
      redis: { kind: 'memory' },
      accessTokenTTL: 900,
      refreshTokenTTL: 1_209_600,
      refreshTokenReuseInterval: 0,
      shutdownDelay: 0,
      trustedProxyHops: 0,
      dpopRequireNonce: false,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('prefers REDIS_CLUSTER_NODES over REDIS_URL', () => {
    const config = loadConfig({ REDIS_URL: 'redis://a:1', REDIS_CLUSTER_NODES: 'h1:7000,h2:7001' });
    expect(config.redis).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'h1', port: 7000 },
        { host: 'h2', port: 7001 },
      ],
    });
  });

  it.each([
    [{ ACCESS_TOKEN_TTL: 'abc' }, /^ACCESS_TOKEN_TTL must be a whole number of seconds/],
    [{ SHUTDOWN_DELAY: '5s' }, /^SHUTDOWN_DELAY must be a whole number of seconds/],
    [{ PORT: '70000' }, /^PORT must be a port number/],
    [{ REDIS_URL: 'http://x' }, /^REDIS_URL must start with redis:\/\//],
    [{ TRUST_PROXY: 'yes' }, /^TRUST_PROXY must be the number of trusted proxy hops/],
    [{ TRUST_PROXY: '-1' }, /^TRUST_PROXY must be the number of trusted proxy hops/],
    [{ TRUST_PROXY: '1.5' }, /^TRUST_PROXY must be the number of trusted proxy hops/],
    [{ DPOP_REQUIRE_NONCE: 'yes' }, /^DPOP_REQUIRE_NONCE must be 0 or 1/],
    [{ DPOP_REQUIRE_NONCE: '2' }, /^DPOP_REQUIRE_NONCE must be 0 or 1/],
    [{ GATEHOUSE_SECRET: 'short' }, /^GATEHOUSE_SECRET must be at least 32 characters/],
    [
      { ACCESS_TOKEN_TTL: '900', REFRESH_TOKEN_TTL: '60' },
      /^REFRESH_TOKEN_TTL must be at least ACCESS_TOKEN_TTL/,
    ],
  ])('refuses %o with one line naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('production refuses to start without Redis, without a secret, or with a non-https issuer', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', GATEHOUSE_SECRET: secret })).toThrow(/REDIS_URL/);
    expect(() => loadConfig({ NODE_ENV: 'production', REDIS_URL: 'redis://r:6379' })).toThrow(
      /GATEHOUSE_SECRET/,
    );
    expect(() =>
      loadConfig({
        NODE_ENV: 'production',
        REDIS_URL: 'redis://r:6379',
        GATEHOUSE_SECRET: secret,
        ISSUER: 'http://auth.example.com',
      }),
    ).toThrow(/https/);
    expect(
      loadConfig({
        NODE_ENV: 'production',
        REDIS_URL: 'redis://r:6379',
        GATEHOUSE_SECRET: secret,
        ISSUER: 'https://auth.example.com/',
      }).issuer,
    ).toBe('https://auth.example.com');
  });

  it('reads TRUST_PROXY as a hop count, accepting the 0 and 1 of earlier versions', () => {
    expect(loadConfig({ TRUST_PROXY: '0' }).trustedProxyHops).toBe(0);
    expect(loadConfig({ TRUST_PROXY: '1' }).trustedProxyHops).toBe(1);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustedProxyHops).toBe(2);
  });

  it('derives the longest access token lifetime once, from ACCESS_TOKEN_TTL and every resource', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-config-'));
    const file = join(dir, 'resources.json');
    writeFileSync(
      file,
      JSON.stringify([
        { uri: 'https://short.example.com', scopes: ['a:read'], accessTokenTTL: 300 },
        { uri: 'https://long.example.com', scopes: ['b:read'], accessTokenTTL: 7200 },
        { uri: 'https://default.example.com', scopes: ['c:read'] },
      ]),
    );
    expect(
      loadConfig({ GATEHOUSE_RESOURCES_FILE: file, ACCESS_TOKEN_TTL: '900', REFRESH_TOKEN_TTL: '86400' }),
    ).toMatchObject({
      accessTokenTTL: 900,
      longestAccessTokenTTL: 7200,
      // What the server and the CLI build their token stores with, derived once here.
      tokenStore: { revokedTTL: 86400, accessTokenTTL: 7200 },
    });
    expect(loadConfig({ ACCESS_TOKEN_TTL: '600' }).longestAccessTokenTTL).toBe(600);
  });

  it('reads resources from GATEHOUSE_RESOURCES_FILE and names the bad field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-config-'));
    const good = join(dir, 'good.json');
    writeFileSync(
      good,
      JSON.stringify([{ uri: 'https://api.example.com', scopes: ['a:read'], accessTokenTTL: 300 }]),
    );
    expect(loadConfig({ GATEHOUSE_RESOURCES_FILE: good }).resources).toEqual([
      { uri: 'https://api.example.com', scopes: ['a:read'], accessTokenTTL: 300 },
    ]);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify([{ uri: 'not a url', scopes: [] }]));
    expect(() => loadConfig({ GATEHOUSE_RESOURCES_FILE: bad })).toThrow(/^GATEHOUSE_RESOURCES_FILE: 0\.uri/);
  });
});

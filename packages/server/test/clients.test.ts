import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postForm } from '@gatehouse/testkit/forms';
import { startGatehouse, suiteGatehouse } from '@gatehouse/testkit/server';
import * as oidc from 'openid-client';
import { describe, expect, it } from 'vitest';
import { readClientsFile } from '../src/clients/clients-file.ts';
import { ConfigError, loadConfig } from '../src/config/config.ts';
import { createGatehouseServer } from '../src/server.ts';

const file = (content: unknown) => {
  const path = join(mkdtempSync(join(tmpdir(), 'gatehouse-clients-')), 'clients.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};

describe('GATEHOUSE_CLIENTS_FILE', () => {
  it('reads an array of RFC 7591 client metadata', () => {
    const clients = readClientsFile(file([{ client_id: 'a', redirect_uris: ['https://a.example/cb'] }]));
    expect(clients.map((c) => c.client_id)).toEqual(['a']);
  });

  it.each([
    ['{', /is not valid JSON/],
    [{ client_id: 'a' }, /JSON array/],
    [[{ redirect_uris: [] }], /entry 0 has no client_id/],
    [[{ client_id: 'a' }, { client_id: 'a' }], /client "a" appears twice/],
  ])('refuses %s', (content, message) => {
    expect(() => readClientsFile(file(content))).toThrow(message);
  });

  it('refuses bad metadata at start with a message naming the client and the field', async () => {
    const config = loadConfig({ NODE_ENV: 'test', GATEHOUSE_SECRET: 'y'.repeat(32) });
    const start = createGatehouseServer(config, {
      clients: [{ client_id: 'broken', redirect_uris: ['not a url'], token_endpoint_auth_method: 'none' }],
    });
    await expect(start).rejects.toThrow(ConfigError);
    await expect(start).rejects.toThrow(/client "broken": redirect_uris/);
  });
});

describe('RFC 7591 dynamic registration with an initial access token', () => {
  const token = 'initial-access-token-0123456789';
  const gh = suiteGatehouse({ env: { GATEHOUSE_REGISTRATION_TOKEN: token }, redis: false });

  it('registers a client that can then use client credentials', async () => {
    const registration = await fetch(`${gh.issuer}/register/client`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        scope: 'recipes:read',
      }),
    });
    expect(registration.status).toBe(201);
    const client = (await registration.json()) as { client_id: string; client_secret: string };
    const config = await oidc.discovery(
      new URL(gh.issuer),
      client.client_id,
      undefined,
      oidc.ClientSecretBasic(client.client_secret),
      {
        execute: [oidc.allowInsecureRequests],
      },
    );
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'recipes:read' });
    expect(tokens.access_token).toBeTypeOf('string');
  });

  it('refuses registration without the initial access token', async () => {
    const response = await fetch(`${gh.issuer}/register/client`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['https://a.example/cb'] }),
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_token');
  });

  it('without GATEHOUSE_REGISTRATION_TOKEN there is no registration endpoint', async () => {
    const plain = await startGatehouse();
    try {
      const result = await postForm(`${plain.issuer}/register/client`, {});
      expect(result.status).toBe(404);
    } finally {
      await plain.stop();
    }
  });
});

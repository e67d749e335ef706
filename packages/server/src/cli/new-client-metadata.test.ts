import { describe, expect, it } from 'vitest';
import { CliError } from './cli-error.ts';
import { newClientMetadata } from './new-client-metadata.ts';

const now = 1_700_000_000;

function refusal(input: unknown): string {
  try {
    newClientMetadata(input, now);
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    return (err as Error).message;
  }
  throw new Error('expected the metadata to be refused');
}

describe('newClientMetadata', () => {
  it('completes a confidential web client with a generated id and secret', () => {
    const client = newClientMetadata({ redirect_uris: ['https://app.example/cb'], client_name: 'App' }, now);
    expect(client).toMatchObject({
      redirect_uris: ['https://app.example/cb'],
      client_name: 'App',
      client_id_issued_at: now,
      client_secret_expires_at: 0,
    });
    expect(client.client_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(client.client_secret).toMatch(/^[\w-]{43}$/);
  });

  it('keeps a given client_id and secret, and gives a public client no secret', () => {
    expect(
      newClientMetadata(
        { client_id: 'svc', client_secret: 's'.repeat(32), grant_types: ['client_credentials'] },
        now,
      ),
    ).toMatchObject({ client_id: 'svc', client_secret: 's'.repeat(32), response_types: [] });
    const spa = newClientMetadata(
      { client_id: 'spa', token_endpoint_auth_method: 'none', redirect_uris: ['http://localhost:5173/cb'] },
      now,
    );
    expect(spa).not.toHaveProperty('client_secret');
    expect(spa).not.toHaveProperty('client_secret_expires_at');
  });

  it.each([
    [{ redirect_uri: ['https://a.example/cb'] }, '"redirect_uri" is not a recognized client metadata field'],
    [{}, 'redirect_uris must list at least one URI'],
    [{ redirect_uris: 'https://a.example/cb' }, 'redirect_uris '],
    [{ redirect_uris: ['https://a.example/cb#frag'] }, 'redirect_uris[0] must not contain a fragment'],
    [{ redirect_uris: ['http://a.example/cb'] }, 'redirect_uris[0] http is only allowed for localhost'],
    [{ redirect_uris: ['/cb'] }, 'redirect_uris[0] must be an absolute URI'],
    [{ grant_types: ['implicit'] }, 'grant_types[0] "implicit" is not allowed in OAuth 2.1'],
    [{ grant_types: ['client_credentials'], response_types: ['code'] }, 'response_types "code" needs'],
    [
      { grant_types: ['client_credentials'], token_endpoint_auth_method: 'none' },
      'grant_types client_credentials needs a confidential client',
    ],
    [
      { token_endpoint_auth_method: 'magic', grant_types: ['client_credentials'] },
      'token_endpoint_auth_method must be one of',
    ],
    [{ client_id: 'a{b}', grant_types: ['client_credentials'] }, 'client_id must be'],
    [
      { client_secret: 'short', grant_types: ['client_credentials'] },
      'client_secret must be at least 32 characters',
    ],
    [
      { grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt' },
      'jwks or jwks_uri is required',
    ],
    [[], 'expected a JSON object'],
  ])('refuses %j naming the field', (input, message) => {
    const text = refusal(input);
    expect(text).toContain(message);
    expect(text.startsWith('invalid client metadata: ')).toBe(true);
    expect(text).not.toContain('\n');
  });
});

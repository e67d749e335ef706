import { describe, expect, it } from 'vitest';
import { createAuthenticatedHttp, isInvalidTokenChallenge } from './authenticated-http.ts';

describe('isInvalidTokenChallenge', () => {
  it.each([
    ['Bearer error="invalid_token"', true],
    ['Bearer realm="api", error="invalid_token", error_description="expired"', true],
    ['bearer error=invalid_token', true],
    ['Bearer error="insufficient_scope", scope="recipes:write"', false],
    ['Bearer', false],
    ['Basic realm="x"', false],
    [null, false],
  ])('%s → %s', (header, expected) => {
    expect(isInvalidTokenChallenge(header)).toBe(expected);
  });
});

describe('createAuthenticatedHttp', () => {
  const seen: { url: string; authorization: string | null }[] = [];
  const fetchStub: typeof fetch = async (input) => {
    const request = input as Request;
    seen.push({ url: request.url, authorization: request.headers.get('authorization') });
    return new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } });
  };
  const http = createAuthenticatedHttp({
    getAccessToken: async () => 'token-1',
    refresh: async () => ({ accessToken: 'token-2' }),
    apiOrigins: ['https://api.example.com'],
    http: { retry: 0 },
    fetch: fetchStub,
  });

  it('sends the token only to the configured API origins', async () => {
    await http.get('https://api.example.com/me');
    await http.get('https://elsewhere.example.org/track');
    expect(seen).toEqual([
      { url: 'https://api.example.com/me', authorization: 'Bearer token-1' },
      { url: 'https://elsewhere.example.org/track', authorization: null },
    ]);
  });
});

import { basic, REDIRECT_URI, SERVICE_SECRET } from '@gatehouse/testkit/clients';
import { suiteGatehouse } from '@gatehouse/testkit/server';
import { signIn } from '@gatehouse/testkit/sign-in';
import { describe, expect, it } from 'vitest';
import { loopback } from './support/from-address.ts';
import { type RawResponse, rawRequest } from './support/raw-request.ts';

/**
 * Spellings of `path` an attacker tries, raw on the wire. oidc-provider's router folds case
 * and ignores one trailing slash; the rest probe decoding and normalisation.
 */
function variantsOf(path: string): string[] {
  const last = path.lastIndexOf('/');
  const head = path.slice(0, last + 1);
  const tail = path.slice(last + 1);
  const capitalised = path.replace(/\/(\w)/g, (_, c: string) => `/${c.toUpperCase()}`);
  const encodedFirst = `${head}%${tail.charCodeAt(0).toString(16)}${tail.slice(1)}`;
  return [
    path.toUpperCase(),
    capitalised,
    `${head}${tail.toUpperCase()}`,
    `${path}/`,
    `${path.toUpperCase()}/`,
    `${path}//`,
    `/${path}`,
    `${head}/${tail}`,
    `${head}./${tail}`,
    `/.${path}`,
    `${path}/.`,
    `${path};x`,
    `${path}%2F`,
    `${path}%20`,
    encodedFirst,
    `${path}/..${path}`,
  ].filter((v, i, all) => v !== path && all.indexOf(v) === i);
}

const PAR_FORM = {
  client_id: 'spa',
  response_type: 'code',
  redirect_uri: REDIRECT_URI,
  scope: 'openid',
  code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  code_challenge_method: 'S256',
};

/**
 * Requests to each form endpoint, none failing client authentication: an ordinary one, and
 * where a Gatehouse policy answers instead of oidc-provider, one that policy refuses.
 */
const FORM_ENDPOINTS: Record<string, { form: Record<string, string>; headers?: Record<string, string> }[]> = {
  '/token': [
    { form: { grant_type: 'refresh_token', refresh_token: 'not-a-token', client_id: 'spa' } },
    {
      form: { grant_type: 'client_credentials', scope: 'recipes:read admin:everything' },
      headers: basic('service', SERVICE_SECRET),
    },
  ],
  '/revoke': [{ form: { token: 'not-a-token', client_id: 'spa' } }],
  '/introspect': [{ form: { token: 'not-a-token', client_id: 'spa' } }],
  '/device/auth': [
    { form: { client_id: 'cli', scope: 'openid' } },
    { form: { client_id: 'cli', scope: 'openid admin:everything' } },
  ],
  '/par': [{ form: PAR_FORM }],
};

/** The provider's GET routes (and a resume route with a made-up uid). */
const GET_ROUTES = [
  '/authorize',
  '/jwks',
  '/.well-known/openid-configuration',
  '/.well-known/oauth-authorization-server',
  '/userinfo',
  '/device',
  '/session/end',
  '/session/end/success',
];

/** Routes with a `/:uid` child route. */
const PARAMETERISED = new Set(['/authorize', '/device']);

const form = (params: Record<string, string>) => new URLSearchParams(params).toString();

/** What a client can tell apart: status, error code, and which fields came back. */
function observable(response: RawResponse) {
  return { status: response.status, error: response.body.error, fields: Object.keys(response.body).sort() };
}

describe('non-canonical spellings of provider paths (real server, real Redis)', () => {
  const gh = suiteGatehouse();

  const post = (path: string, body: string, headers: Record<string, string> = {}, from = loopback(2)) =>
    rawRequest(gh.issuer, { method: 'POST', path, body, headers, from });

  it('every form endpoint answers each variant exactly as its own path, or 404', async () => {
    for (const [path, requests] of Object.entries(FORM_ENDPOINTS)) {
      for (const request of requests) {
        const canonical = await post(path, form(request.form), request.headers);
        expect(canonical.status, path).not.toBe(404);
        const variants = variantsOf(path);
        const answers = await Promise.all(
          variants.map((variant) => post(variant, form(request.form), request.headers)),
        );
        for (const [i, answer] of answers.entries()) {
          if (answer.status === 404) continue;
          expect(observable(answer), `${path} as ${variants[i]}: ${answer.text}`).toEqual(
            observable(canonical),
          );
        }
      }
    }
  });

  it('30 wrong secrets at variants of /token, /revoke and /introspect never reach client authentication; at /token some get 429', async () => {
    const attacker = loopback(30);
    const guess = (path: string, i: number) =>
      post(
        path,
        form({ grant_type: 'client_credentials', token: 'x' }),
        basic('service', `guess-${i}`),
        attacker,
      );
    for (const path of ['/token', '/revoke', '/introspect']) {
      for (const variant of variantsOf(path)) {
        const burst = await Promise.all(Array.from({ length: 30 }, (_, i) => guess(variant, i)));
        // Never once evaluated: no 401 (a guess checked), nothing served.
        expect(new Set(burst.map((r) => r.status)), variant).toEqual(new Set([404]));
      }
    }
    const canonical = await Promise.all(Array.from({ length: 30 }, (_, i) => guess('/token', i)));
    const statuses = canonical.map((r) => r.status);
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
  });

  it('the token policies cannot be skipped: an unknown scope or a JSON body at a variant is 404, not served', async () => {
    const unknownScope = form({ grant_type: 'client_credentials', scope: 'recipes:read admin:everything' });
    const service = basic('service', SERVICE_SECRET);
    const canonical = await post('/token', unknownScope, service, loopback(40));
    expect(canonical.status).toBe(400);
    expect(canonical.body.error).toBe('invalid_scope');
    const json = { 'content-type': 'application/json', ...service };
    expect((await post('/token', '{"grant_type":"client_credentials"}', json, loopback(40))).body.error).toBe(
      'invalid_request',
    );
    for (const variant of variantsOf('/token')) {
      expect((await post(variant, unknownScope, service, loopback(40))).status, variant).toBe(404);
      expect((await post(variant, '{"grant_type":"client_credentials"}', json, loopback(40))).status).toBe(
        404,
      );
    }
  });

  it('a JWT access token is introspected and revoked only at the canonical paths', async () => {
    const { tokens } = await signIn(gh.server, gh.issuer, 'variant-user');
    const jwt = tokens.access_token;
    for (const variant of [...variantsOf('/introspect'), ...variantsOf('/revoke')]) {
      expect((await post(variant, form({ token: jwt, client_id: 'spa' }))).status, variant).toBe(404);
    }
    const introspected = await post('/introspect', form({ token: jwt, client_id: 'spa' }));
    expect(introspected.body).toMatchObject({ active: true, client_id: 'spa' });
  });

  it('every other provider route answers its variants with 404 too', async () => {
    for (const path of GET_ROUTES) {
      expect((await rawRequest(gh.issuer, { path })).status, path).not.toBe(404);
      // `/authorize/.` and `/device/.` are the resume routes with the uid ".": paths of their own.
      const variants = variantsOf(path).filter((v) => !PARAMETERISED.has(path) || v !== `${path}/.`);
      const answers = await Promise.all(variants.map((variant) => rawRequest(gh.issuer, { path: variant })));
      for (const [i, answer] of answers.entries()) {
        expect(answer.status, `${path} as ${variants[i]}`).toBe(404);
      }
    }
    // Routes with a parameter: the uid keeps its case, the fixed part may not change.
    for (const variant of [
      '/AUTHORIZE/abc',
      '/authorize/abc/',
      '/Device/abc',
      '/device/abc/',
      '/device/AUTH',
    ]) {
      expect((await rawRequest(gh.issuer, { path: variant })).status, variant).toBe(404);
      expect((await post(variant, form({ client_id: 'cli', scope: 'openid' }))).status, variant).toBe(404);
    }
  });
});

import { type RedisProcess, startRedis } from '@gatehouse/testkit';
import { basic, REDIRECT_URI, SERVICE_SECRET, WEB_SECRET } from '@gatehouse/testkit/clients';
import { postForm } from '@gatehouse/testkit/forms';
import { type StartedGatehouse, startGatehouse } from '@gatehouse/testkit/server';
import { openSignInPage, signInSpa, TEST_PASSWORD } from '@gatehouse/testkit/sign-in';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusCounts } from '../support/measure.ts';

/** RFC 6749 §5.2: `error` and `error_description` are NQSCHAR (%x20-21 / %x23-5B / %x5D-7E). */
const NQSCHARS = /^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/;
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

const LOCKOUT_RESET_EVERY = 300;
/** Requests per endpoint: 10,000 in total. */
const RUNS = {
  token: 2_500,
  authorize: 1_500,
  deviceAuth: 1_500,
  introspect: 1_500,
  revoke: 1_500,
  device: 500,
  pages: 1_000,
};

interface FuzzRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Uint8Array<ArrayBuffer> | undefined;
}

interface Seen {
  readonly request: FuzzRequest;
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
  readonly location: string | null;
}

describe('fuzzing the protocol endpoints with 10,000 random and mutated requests', () => {
  let redis: RedisProcess;
  let gh: StartedGatehouse;
  const unexpected: unknown[] = [];
  const seen: Seen[] = [];
  const known: string[] = [];
  let interactionPath = '';
  let pageCookies = '';
  let pageCsrf = '';
  let inspect: Redis;

  /**
   * Forgets the lockout counters: a fuzz run trips the per-client limit (100 failures of one
   * client_id from anywhere) within a few hundred requests, after which every request would
   * be the same 429. Cleared every {@link LOCKOUT_RESET_EVERY} requests to keep exploring.
   */
  async function resetLockouts(): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await inspect.scan(cursor, 'MATCH', 'gatehouse:ratelimit:*', 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await inspect.del(...keys);
    } while (cursor !== '0');
  }

  beforeAll(async () => {
    redis = await startRedis();
    inspect = new Redis(redis.url);
    // Behind a (pretend) proxy: every fuzz request comes from its own random address, so the
    // client-authentication lockout (per IP) does not turn the whole run into 429s.
    gh = await startGatehouse({
      redis,
      env: { TRUST_PROXY: '1' },
      gatehouse: { onError: (err) => unexpected.push(err) },
    });
    // Real credentials of every kind, so mutations start from values the server recognises.
    const { token } = await signInSpa(gh.server, { account: 'fuzz-user' });
    const device = await postForm(`${gh.issuer}/device/auth`, { client_id: 'cli', scope: 'openid' });
    // A live interaction with its CSRF token and cookies, for the sign-in page forms.
    const signInPage = await openSignInPage(gh.issuer);
    interactionPath = signInPage.path;
    pageCookies = signInPage.cookies;
    pageCsrf = signInPage.csrf;
    known.push(
      interactionPath.split('/').at(-1) ?? '',
      pageCsrf,
      'fuzz-user@reliability.test',
      TEST_PASSWORD,
      String(token?.body.access_token),
      String(token?.body.refresh_token),
      String(token?.body.id_token),
      String(device.body.device_code),
      String(device.body.user_code),
    );
  });
  afterAll(async () => {
    inspect?.disconnect();
    await gh?.stop();
    await redis?.cleanup();
  });

  // --- value generators ---
  const printable = fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  });
  const nasty = fc.constantFrom(
    '',
    ' ',
    '%',
    '%zz',
    '%00',
    '\u0000',
    '\r\n',
    '{}',
    '[]',
    '"',
    "'",
    '\\',
    'null',
    '__proto__',
    'constructor',
    'toString',
    '}{',
    '{a}',
    'a'.repeat(5_000),
    '😀',
    '\uD800',
    '..%2F..%2Fetc%2Fpasswd',
    '<script>alert(1)</script>',
    'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
  );
  const knownValue = () =>
    fc.constantFrom(
      ...known,
      'spa',
      'web',
      'service',
      'cli',
      'other-web',
      REDIRECT_URI,
      'openid offline_access recipes:read',
      'recipes:read recipes:write',
      'authorization_code',
      'refresh_token',
      'client_credentials',
      DEVICE_GRANT,
      'S256',
      'plain',
      'code',
      'token',
      'id_token',
      'none',
      'login',
      'consent',
      'access_token',
      'refresh_token',
      'http://localhost:4001',
      SERVICE_SECRET,
      WEB_SECRET,
    );
  /** A known value with characters inserted, deleted or replaced. */
  const mutated = () =>
    fc
      .tuple(knownValue(), fc.nat(), fc.nat(10), fc.string({ maxLength: 4 }))
      .map(([base, at, cut, insert]) => {
        const i = base.length === 0 ? 0 : at % base.length;
        return base.slice(0, i) + insert + base.slice(i + cut);
      });
  const value = () =>
    fc.oneof(
      { weight: 4, arbitrary: knownValue() },
      { weight: 3, arbitrary: mutated() },
      { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
      { weight: 1, arbitrary: nasty },
    );
  const paramName = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.constantFrom(
        'grant_type',
        'client_id',
        'client_secret',
        'code',
        'code_verifier',
        'redirect_uri',
        'refresh_token',
        'scope',
        'resource',
        'token',
        'token_type_hint',
        'device_code',
        'user_code',
        'response_type',
        'response_mode',
        'state',
        'nonce',
        'code_challenge',
        'code_challenge_method',
        'prompt',
        'request',
        'request_uri',
        'client_assertion',
        'client_assertion_type',
        'max_age',
        'claims',
        'acr_values',
        'login_hint',
        'id_token_hint',
        'ui_locales',
        'authorization_details',
        'dpop_jkt',
        'xsrf',
        'confirm',
        'abort',
      ),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
    { weight: 1, arbitrary: nasty },
  );
  /** Parameters: a valid request for the endpoint, then dropped, replaced, duplicated or extra ones. */
  const params = (valid: readonly (readonly [string, string])[]) =>
    fc
      .tuple(fc.subarray([...valid]), fc.array(fc.tuple(paramName, value()), { maxLength: 6 }), fc.boolean())
      .chain(([kept, extra, shuffle]) => {
        const all = [...kept, ...extra];
        return shuffle ? fc.shuffledSubarray(all, { minLength: all.length }) : fc.constant(all);
      });
  /** Form-encoded (usually), or raw bytes that are not valid percent-encoding or UTF-8. */
  const encode = (pairs: readonly (readonly [string, string])[]) =>
    fc.oneof(
      { weight: 8, arbitrary: fc.constant(new URLSearchParams(pairs.map(([k, v]) => [k, v])).toString()) },
      { weight: 1, arbitrary: fc.constant(pairs.map(([k, v]) => `${k}=${v}`).join('&')) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => new Uint8Array(bytes)) },
    );
  const contentType = fc.oneof(
    { weight: 8, arbitrary: fc.constant('application/x-www-form-urlencoded') },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'application/x-www-form-urlencoded; charset=utf-8',
        'APPLICATION/X-WWW-FORM-URLENCODED',
        'application/x-www-form-urlencoded; charset=latin1',
        'application/json',
        'text/plain',
        'multipart/form-data; boundary=xyz',
        '',
        'application/x-www-form-urlencoded;;;',
      ),
    },
  );
  const authorization = fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: fc.constant(basic('service', SERVICE_SECRET).authorization) },
    { weight: 1, arbitrary: fc.constant(basic('web', WEB_SECRET).authorization) },
    { weight: 2, arbitrary: fc.tuple(printable, printable).map(([u, p]) => basic(u, p).authorization) },
    { weight: 1, arbitrary: printable.map((s) => `Basic ${s}`) },
    { weight: 1, arbitrary: printable.map((s) => `Basic ${Buffer.from(s).toString('base64')}`) },
    { weight: 1, arbitrary: printable.map((s) => `Bearer ${s}`) },
    { weight: 1, arbitrary: printable },
  );
  const extraHeaders = fc.record(
    {
      'x-forwarded-for': fc.ipV4(),
      accept: fc.constantFrom('application/json', 'text/html', '*/*', 'application/xml', ''),
      dpop: printable,
      origin: fc.constantFrom('http://localhost:5173', 'null', 'http://evil.example'),
      cookie: printable,
    },
    { requiredKeys: ['x-forwarded-for'] },
  );

  const formRequest = (path: string, valid: readonly (readonly [string, string])[]) =>
    fc
      .tuple(
        params(valid).chain(encode),
        contentType,
        authorization,
        extraHeaders,
        fc.oneof(
          { weight: 19, arbitrary: fc.constant('POST') },
          // Wrong methods too; GET only where no GET route shares the path (GET /device/auth
          // is the device resume route /device/:uid, fuzzed with /device below).
          {
            weight: 1,
            arbitrary: fc.constantFrom(
              ...(path.startsWith('/device') ? [] : ['GET']),
              'PUT',
              'DELETE',
              'PATCH',
            ),
          },
        ),
      )
      .map(([body, type, auth, headers, method]): FuzzRequest => {
        const all: Record<string, string> = { ...headers };
        if (type) all['content-type'] = type;
        if (auth !== undefined) all.authorization = auth;
        return { method, path, query: '', headers: all, body: method === 'GET' ? undefined : body };
      });

  const authorizeRequest = () =>
    fc
      .tuple(
        params([
          ['client_id', 'spa'],
          ['response_type', 'code'],
          ['redirect_uri', REDIRECT_URI],
          ['scope', 'openid offline_access recipes:read'],
          ['code_challenge', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'],
          ['code_challenge_method', 'S256'],
          ['state', 'xyz'],
        ]),
        fc.constantFrom('GET', 'GET', 'GET', 'POST'),
        extraHeaders,
      )
      .map(([pairs, method, headers]): FuzzRequest => {
        const encoded = new URLSearchParams(pairs.map(([k, v]) => [k, v])).toString();
        return method === 'GET'
          ? { method, path: '/authorize', query: encoded, headers, body: undefined }
          : {
              method,
              path: '/authorize',
              query: '',
              headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
              body: encoded,
            };
      });

  let sent = 0;
  async function send(request: FuzzRequest): Promise<Seen | undefined> {
    if (++sent % LOCKOUT_RESET_EVERY === 0) await resetLockouts();
    let response: Response;
    try {
      response = await fetch(`${gh.issuer}${request.path}${request.query ? `?${request.query}` : ''}`, {
        method: request.method,
        headers: request.headers,
        ...(request.body === undefined ? {} : { body: request.body }),
        redirect: 'manual',
      });
    } catch (err) {
      // fetch refuses to send some header values (TypeError before any byte goes out).
      if (err instanceof TypeError && !(err.cause instanceof Error && 'code' in err.cause)) return undefined;
      throw err;
    }
    const text = await response.text();
    const result: Seen = {
      request,
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      text,
      location: response.headers.get('location'),
    };
    seen.push(result);
    return result;
  }

  /** The oracle: never a 5xx; an error is a well-formed OAuth error wherever it is delivered. */
  function check(result: Seen | undefined): void {
    if (result === undefined) return;
    const context = () =>
      JSON.stringify({ request: result.request, status: result.status, body: result.text.slice(0, 300) });
    expect(result.status, context()).toBeLessThan(500);
    if (result.status >= 400 && result.contentType.includes('application/json')) {
      const body = JSON.parse(result.text) as { error?: unknown };
      expect(typeof body.error, context()).toBe('string');
      expect(String(body.error), context()).toMatch(NQSCHARS);
    }
    if (result.location) {
      const error = new URL(result.location, gh.issuer).searchParams.get('error');
      if (error !== null) expect(error, context()).toMatch(NQSCHARS);
    }
  }

  const property = (
    arbitrary: fc.Arbitrary<FuzzRequest>,
    numRuns: number,
    examples: readonly FuzzRequest[] = [],
  ) =>
    fc.assert(
      fc.asyncProperty(arbitrary, async (request) => check(await send(request))),
      { numRuns, examples: examples.map((e) => [e] as [FuzzRequest]) },
    );

  it(`/token (${RUNS.token} requests)`, async () => {
    await property(
      fc.oneof(
        formRequest('/token', [
          ['grant_type', 'refresh_token'],
          ['refresh_token', known[1] ?? ''],
          ['client_id', 'spa'],
        ]),
        formRequest('/token', [
          ['grant_type', 'client_credentials'],
          ['scope', 'recipes:read'],
        ]),
        formRequest('/token', [
          ['grant_type', 'authorization_code'],
          ['code', 'x'],
          ['redirect_uri', REDIRECT_URI],
          ['code_verifier', 'v'.repeat(43)],
          ['client_id', 'spa'],
        ]),
        formRequest('/token', [
          ['grant_type', DEVICE_GRANT],
          ['device_code', known[3] ?? ''],
          ['client_id', 'cli'],
        ]),
      ),
      RUNS.token,
    );
  }, 120_000);

  it(`/authorize (${RUNS.authorize} requests, GET and POST)`, async () => {
    await property(authorizeRequest(), RUNS.authorize);
  }, 120_000);

  it(`/device/auth (${RUNS.deviceAuth} requests)`, async () => {
    await property(
      formRequest('/device/auth', [
        ['client_id', 'cli'],
        ['scope', 'openid offline_access'],
      ]),
      RUNS.deviceAuth,
    );
  }, 120_000);

  it(`/introspect (${RUNS.introspect} requests)`, async () => {
    await property(
      formRequest('/introspect', [
        ['token', known[0] ?? ''],
        ['token_type_hint', 'access_token'],
        ['client_id', 'spa'],
      ]),
      RUNS.introspect,
    );
  }, 120_000);

  it(`/revoke (${RUNS.revoke} requests)`, async () => {
    await property(
      formRequest('/revoke', [
        ['token', known[1] ?? ''],
        ['token_type_hint', 'refresh_token'],
        ['client_id', 'spa'],
      ]),
      RUNS.revoke,
    );
  }, 120_000);

  // BUG (found by this fuzz, not fixed here): oidc-provider 9.13.3's error path of the device
  // pages (code_verification, device_resume) writes a fresh xsrf secret into a session that was
  // never saved, then its ensureSessionSave calls session.persist() → TypeError → 500. Any POST
  // /device without a valid session + xsrf (expired cookie, stale form) and any GET /device/<x>
  // hits it. The first two examples are the shrunk counterexamples; see the reliability report.
  it(`/device user-code form and /device/:uid resume (${RUNS.device} requests)`, async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    await property(
      fc.oneof(
        formRequest('/device', [
          ['user_code', known[4] ?? ''],
          ['xsrf', 'x'],
        ]),
        fc
          .tuple(fc.constantFrom('/device/auth', '/device/x', '/device/%zz'), extraHeaders)
          .map(
            ([path, headers]): FuzzRequest => ({ method: 'GET', path, query: '', headers, body: undefined }),
          ),
      ),
      RUNS.device,
      [
        { method: 'POST', path: '/device', query: '', headers: form, body: '' },
        { method: 'GET', path: '/device/auth', query: '', headers: {}, body: undefined },
      ],
    );
  }, 120_000);

  // The sign-in pages (HTML forms, CSRF-protected): never a 5xx, never a stack trace in the page.
  it(`sign-in page forms: login, consent, register, verify-email, password reset (${RUNS.pages} requests)`, async () => {
    const uid = interactionPath.split('/').at(-1) ?? 'x';
    const formFields = fc.constantFrom(
      'email',
      'password',
      'csrf',
      'name',
      'token',
      'password_confirmation',
      'new_password',
      'remember',
      'uid',
    );
    const pagePath = fc.constantFrom(
      `/interaction/${uid}/login`,
      `/interaction/${uid}/login`,
      `/interaction/${uid}/login`,
      `/interaction/${uid}/confirm`,
      `/interaction/${uid}/confirm`,
      `/interaction/${uid}/abort`,
      '/interaction/unknown-uid/login',
      '/interaction/%zz/confirm',
      '/register',
      '/verify-email',
      '/forgot-password',
      '/reset-password',
    );
    const arbitrary = fc
      .tuple(
        pagePath,
        // Mostly a valid CSRF token and cookie, so requests get past the CSRF check.
        fc
          .tuple(
            params([
              ['email', 'fuzz-user@reliability.test'],
              ['password', TEST_PASSWORD],
            ]),
            fc.array(fc.tuple(formFields, value()), { maxLength: 3 }),
            fc.nat(9),
          )
          .map(([base, extra, dropCsrf]) => [
            ...(dropCsrf === 0 ? [] : [['csrf', pageCsrf] as const]),
            ...base,
            ...extra,
          ])
          .chain(encode),
        fc.oneof(
          { weight: 4, arbitrary: fc.constant(pageCookies) },
          { weight: 1, arbitrary: fc.constant('') },
          { weight: 1, arbitrary: printable },
        ),
        contentType,
        extraHeaders,
      )
      .map(([path, body, cookie, type, headers]): FuzzRequest => {
        const all: Record<string, string> = { ...headers };
        if (cookie) all.cookie = cookie;
        if (type) all['content-type'] = type;
        return { method: 'POST', path, query: '', headers: all, body };
      });
    await fc.assert(
      fc.asyncProperty(arbitrary, async (request) => {
        const result = await send(request);
        check(result);
        if (result)
          expect(result.text, JSON.stringify(request)).not.toMatch(/\n\s+at [\w.<>]+ \(|node_modules/);
      }),
      { numRuns: RUNS.pages },
    );
    const pages = seen.filter(
      (r) =>
        !r.request.path.startsWith('/device') &&
        r.request.method === 'POST' &&
        !r.request.path.startsWith('/token') &&
        !['/introspect', '/revoke', '/authorize'].includes(r.request.path),
    );
    console.log(`sign-in page forms: ${JSON.stringify(statusCounts(pages))}`);
  }, 180_000);

  it('the server is healthy after: no unexpected errors, ready, and a full sign-in + refresh works', async () => {
    const total = seen.length;
    console.log([`fuzz requests answered: ${total} (${JSON.stringify(statusCounts(seen))})`].join('\n'));
    expect(total).toBeGreaterThan(9_000);
    // The device-page bug above is reported by its own test; anything else is unexpected here.
    const knownDeviceBug = (err: unknown) =>
      err instanceof TypeError &&
      err.message === 'persist can only be called on previously persisted Sessions';
    expect(unexpected.filter((err) => !knownDeviceBug(err))).toEqual([]);
    expect((await fetch(`${gh.issuer}/healthz`)).status).toBe(200);
    expect((await fetch(`${gh.issuer}/readyz`)).status).toBe(200);
    await resetLockouts();
    const { token } = await signInSpa(gh.server, { account: 'after-fuzz' });
    expect(token?.status).toBe(200);
    const rotated = await postForm(`${gh.issuer}/token`, {
      grant_type: 'refresh_token',
      refresh_token: String(token?.body.refresh_token),
      client_id: 'spa',
    });
    expect(rotated.status).toBe(200);
  });

  // RFC 6749 §5.2: error_description is NQSCHAR as well. Gatehouse echoes unknown scopes into it
  // verbatim (tokens/token-policies.ts), so a non-ASCII scope breaks this (see the report).
  it('every error_description is RFC 6749 §5.2 NQSCHAR too', () => {
    const offenders = seen.filter((s) => {
      if (!s.contentType.includes('application/json') || s.status < 400) return false;
      const description = (JSON.parse(s.text) as { error_description?: unknown }).error_description;
      return typeof description === 'string' && !NQSCHARS.test(description);
    });
    const sample = offenders.slice(0, 3).map((o) => `${o.request.path} ${o.text.slice(0, 160)}`);
    console.log(`error_description outside NQSCHAR: ${offenders.length}\n${sample.join('\n')}`);
    expect(sample).toEqual([]);
  });
});

import { type RedisProcess, startRedis } from '@gatehouse/testkit';
import { REDIRECT_URI } from '@gatehouse/testkit/clients';
import { type StartedGatehouse, startGatehouse } from '@gatehouse/testkit/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RawRequest, rawRequest } from './support/raw-request.ts';

const REGISTRATION_TOKEN = 'registration-token-0123456789abcdef0123';
const EVIL = 'evil.example';

/** Ways a request can claim another host than the issuer's. */
interface Attack {
  readonly name: string;
  readonly trustProxy: boolean;
  /** Turns a request for `path` into the attacker's version of it. */
  readonly disguise: (request: RawRequest) => RawRequest;
}

const ATTACKS: Attack[] = [
  {
    name: 'Host: evil.example',
    trustProxy: false,
    disguise: (r) => ({ ...r, headers: { ...r.headers, host: EVIL } }),
  },
  {
    name: 'an absolute-form request target http://evil.example/…',
    trustProxy: false,
    disguise: (r) => ({ ...r, path: `http://${EVIL}${r.path}` }),
  },
  {
    name: 'X-Forwarded-Host and -Proto without a trusted proxy',
    trustProxy: false,
    disguise: (r) => ({
      ...r,
      headers: { ...r.headers, 'x-forwarded-host': EVIL, 'x-forwarded-proto': 'https' },
    }),
  },
  {
    name: 'X-Forwarded-Host and -Proto behind a trusted proxy (TRUST_PROXY=1)',
    trustProxy: true,
    disguise: (r) => ({
      ...r,
      headers: { ...r.headers, host: EVIL, 'x-forwarded-host': EVIL, 'x-forwarded-proto': 'https' },
    }),
  },
];

/** Every absolute URL in a response body (JSON values or HTML attributes). */
function urlsIn(text: string): string[] {
  return [...text.matchAll(/https?:\/\/[^\s"'<>]+/g)].map((m) => m[0]);
}

function cookiesOf(headers: Record<string, string | string[] | undefined>): string {
  const setCookie = headers['set-cookie'] ?? [];
  return (Array.isArray(setCookie) ? setCookie : [setCookie]).map((line) => line.split(';')[0]).join('; ');
}

describe('URLs the server hands out come from ISSUER, never from the request (real server, real Redis)', () => {
  let redis: RedisProcess;
  const servers = new Map<boolean, StartedGatehouse>();

  beforeAll(async () => {
    redis = await startRedis();
    for (const trustProxy of [false, true]) {
      servers.set(
        trustProxy,
        await startGatehouse({
          redis,
          env: { GATEHOUSE_REGISTRATION_TOKEN: REGISTRATION_TOKEN, TRUST_PROXY: trustProxy ? '1' : '0' },
        }),
      );
    }
  });
  afterAll(async () => {
    await Promise.all([...servers.values()].map((gh) => gh.stop()));
    await redis?.cleanup();
  });

  describe.each(ATTACKS)('with $name', ({ trustProxy, disguise }) => {
    const server = () => servers.get(trustProxy) as StartedGatehouse;
    const send = (request: RawRequest) => rawRequest(server().issuer, disguise(request));
    /** Asserts that every URL in `text` is the issuer's, and that there is at least one. */
    const expectOnlyIssuerUrls = (text: string) => {
      const urls = urlsIn(text);
      expect(urls.length).toBeGreaterThan(0);
      for (const url of urls) expect(url.startsWith(server().issuer), url).toBe(true);
      expect(text).not.toContain(EVIL);
    };

    it('discovery publishes issuer-based endpoints only', async () => {
      const discovery = await send({ path: '/.well-known/openid-configuration' });
      expect(discovery.status).toBe(200);
      expect(discovery.body).toMatchObject({
        issuer: server().issuer,
        token_endpoint: `${server().issuer}/token`,
        jwks_uri: `${server().issuer}/jwks`,
        registration_endpoint: `${server().issuer}/register/client`,
      });
      expectOnlyIssuerUrls(discovery.text);
      const oauth = await send({ path: '/.well-known/oauth-authorization-server' });
      expectOnlyIssuerUrls(oauth.text);
    });

    it('device authorization sends the user to the issuer’s /device', async () => {
      const device = await send({
        method: 'POST',
        path: '/device/auth',
        body: new URLSearchParams({ client_id: 'cli', scope: 'openid' }).toString(),
      });
      expect(device.status).toBe(200);
      expect(device.body.verification_uri).toBe(`${server().issuer}/device`);
      expect(String(device.body.verification_uri_complete)).toMatch(
        new RegExp(`^${server().issuer}/device\\?user_code=`),
      );
      // The page the user opens there posts its form back to the issuer.
      const page = await send({ path: '/device' });
      expect(page.status).toBe(200);
      expect(page.text).not.toContain(EVIL);
    });

    it('registration returns an issuer-based registration_client_uri', async () => {
      const registered = await send({
        method: 'POST',
        path: '/register/client',
        headers: { authorization: `Bearer ${REGISTRATION_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          redirect_uris: ['https://app.example/callback'],
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code'],
          response_types: ['code'],
        }),
      });
      expect(registered.status, registered.text).toBe(201);
      expect(String(registered.body.registration_client_uri)).toMatch(
        new RegExp(`^${server().issuer}/register/client/`),
      );
      expectOnlyIssuerUrls(JSON.stringify({ uri: registered.body.registration_client_uri }));
    });

    it('a sign-in started there returns to the issuer, and its pages name no other host', async () => {
      const query = new URLSearchParams({
        response_type: 'code',
        client_id: 'spa',
        redirect_uri: REDIRECT_URI,
        scope: 'openid',
        state: 'state-0123456789',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      });
      const started = await send({ path: `/authorize?${query}` });
      expect(started.status).toBe(303);
      const location = String(started.headers.location);
      expect(location).not.toContain(EVIL);
      const uid = /\/interaction\/([\w-]+)/.exec(location)?.[1];
      expect(uid).toBeDefined();

      // Where the browser goes once the user has signed in.
      const interaction = await server().server.host.provider.Interaction.find(String(uid));
      expect(interaction?.returnTo.startsWith(`${server().issuer}/authorize/`)).toBe(true);

      const signInPage = await send({
        path: `/interaction/${uid}`,
        headers: { cookie: cookiesOf(started.headers) },
      });
      expect(signInPage.status).toBe(200);
      expect(signInPage.text).not.toContain(EVIL);

      const logout = await send({ path: '/session/end' });
      expect(logout.text).not.toContain(EVIL);
    });
  });
});

import { createGatehouseServer, type GatehouseServer, loadConfig } from '@gatehouse/server';
import * as oidc from 'openid-client';
import { REDIRECT_URI, TEST_CLIENTS } from './clients.ts';
import { CookieJar, getWithCookies } from './cookie-jar.ts';
import { type DpopKey, dpopProof } from './dpop.ts';
import { TEST_SECRET } from './gatehouse-process.ts';
import { fetchTransport, type PageAnswer, type PageTransport } from './page-transport.ts';
import { type FormResponse, parseJsonBody, postForm } from './post-form.ts';
import { finishInteraction } from './user-agent.ts';

/**
 * Plays the user's part of sign-in against a server that runs in another process (or another
 * instance): a Gatehouse instance on the same Redis and secret that never listens, used only to
 * complete interactions through oidc-provider's models (login + consent), as the sign-in pages
 * would. Its `config.issuer` is the issuer of the instances under test.
 */
export async function startInteractionDriver(options: {
  readonly issuer: string;
  readonly redisUrl?: string;
  readonly clusterSeeds?: string;
  /** The servers' `GATEHOUSE_SECRET` (it decrypts the signing keys). @default TEST_SECRET */
  readonly secret?: string;
  /** Settings the driver must share with the servers (REFRESH_TOKEN_TTL: the grants it saves expire with it). */
  readonly env?: Readonly<Record<string, string>>;
}): Promise<GatehouseServer> {
  const config = loadConfig({
    NODE_ENV: 'test',
    ISSUER: options.issuer,
    GATEHOUSE_SECRET: options.secret ?? TEST_SECRET,
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
    ...(options.clusterSeeds ? { REDIS_CLUSTER_NODES: options.clusterSeeds } : {}),
    ...options.env,
  });
  // Errors while Redis is down are expected here; the driver is test equipment.
  return createGatehouseServer(config, { clients: TEST_CLIENTS, onError: () => {} });
}

/** Every HTTP answer seen while signing in, for tests that classify statuses. */
export type ResponseObserver = (
  step: 'authorize' | 'resume' | 'token',
  response: { readonly status: number; readonly headers: Headers; readonly body?: unknown },
) => void;

/** The password of every account {@link accountFor} creates. */
export const TEST_PASSWORD = 'correct horse battery staple';
const accountIds = new WeakMap<GatehouseServer, Map<string, Promise<string>>>();

async function ensureAccount(driver: GatehouseServer, name: string): Promise<string> {
  // The driver's own account store: on the servers' Redis, so the servers find the account.
  const accounts = driver.accounts;
  const email = `${name}@reliability.test`;
  const existing = await accounts.findByEmail(email);
  if (existing) return existing.id;
  try {
    return (await accounts.create({ email, password: TEST_PASSWORD, emailVerified: true })).id;
  } catch (err) {
    // Another driver (or an earlier run against the same Redis) created it meanwhile.
    const raced = await accounts.findByEmail(email);
    if (raced) return raced.id;
    throw err;
  }
}

/**
 * The id of a real, verified account named `name` (`<name>@reliability.test`), created on first
 * use: the server answers `findAccount` only for stored accounts, so sign-ins need one.
 */
export function accountFor(driver: GatehouseServer, name: string): Promise<string> {
  let byName = accountIds.get(driver);
  if (!byName) {
    byName = new Map();
    accountIds.set(driver, byName);
  }
  const known = byName.get(name);
  if (known) return known;
  const created = ensureAccount(driver, name);
  byName.set(name, created);
  // A failure (Redis down) must not stick: the next sign-in tries again.
  created.catch(() => byName.delete(name));
  return created;
}

/**
 * Completes an interaction the way the login and consent pages would (every requested scope),
 * as the account named `name`.
 */
async function finishInteractionAs(driver: GatehouseServer, uid: string, name: string): Promise<void> {
  await finishInteraction(driver, uid, await accountFor(driver, name));
}

/**
 * Follows the authorization request with `jar` (so a session can be reused later) until it
 * leaves the issuer, and returns that redirect (the client's callback, with `code` or `error`).
 */
export async function authorizeWith(
  driver: GatehouseServer,
  authorizationUrl: string,
  jar: CookieJar,
  accountName: string,
  observe?: ResponseObserver,
): Promise<URL> {
  const issuer = driver.config.issuer;
  let response = await getWithCookies(authorizationUrl, jar);
  observe?.('authorize', response);
  for (let hops = 0; hops < 10; hops++) {
    const location = response.headers.get('location');
    if (!location) {
      const text = await response.text();
      throw new AuthorizationStopped(response.status, response.headers, text);
    }
    const url = new URL(location, issuer);
    const interaction = url.pathname.match(/^\/interaction\/([^/]+)$/);
    if (interaction?.[1]) {
      await finishInteractionAs(driver, interaction[1], accountName);
      response = await getWithCookies(`${issuer}/authorize/${interaction[1]}`, jar);
      observe?.('resume', response);
      continue;
    }
    if (!url.href.startsWith(issuer)) return url;
    response = await getWithCookies(url.href, jar);
    observe?.('resume', response);
  }
  throw new Error('too many redirects');
}

/** The authorization endpoint answered without a redirect (an error page or a JSON error). */
export class AuthorizationStopped extends Error {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
  constructor(status: number, headers: Headers, body: string) {
    super(`authorization stopped with ${status}`);
    this.status = status;
    this.headers = headers;
    this.body = body;
  }
}

/** A token endpoint's answer. */
export type TokenResponse = FormResponse;

/**
 * The code flow of the public `spa` client: authorize at the issuer (through `jar`) as the account
 * named `account`, redeem the code at `tokenUrl` (any instance; skipped with `redeem: false`).
 * Returns the callback (with `code` or `error`), the PKCE verifier and the token response.
 */
export async function signInSpa(
  driver: GatehouseServer,
  options: {
    readonly tokenUrl?: string;
    /** Account name (default `user-1`); see {@link accountFor}. */
    readonly account?: string;
    readonly jar?: CookieJar;
    readonly prompt?: string;
    readonly observe?: ResponseObserver;
    /** Stop at the callback without redeeming the code. */
    readonly redeem?: boolean;
  } = {},
): Promise<{ callback: URL; verifier: string; token?: TokenResponse }> {
  const issuer = driver.config.issuer;
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = new URL(`${issuer}/authorize`);
  url.search = new URLSearchParams({
    client_id: 'spa',
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'openid offline_access recipes:read',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...(options.prompt ? { prompt: options.prompt } : {}),
  }).toString();
  const callback = await authorizeWith(
    driver,
    url.href,
    options.jar ?? new CookieJar(),
    options.account ?? 'user-1',
    options.observe,
  );
  const code = callback.searchParams.get('code');
  if (!code || options.redeem === false) return { callback, verifier };
  const token = await postForm(options.tokenUrl ?? `${issuer}/token`, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URI,
    code_verifier: verifier,
    client_id: 'spa',
  });
  options.observe?.('token', token);
  return { callback, verifier, token };
}

/** Rotates a refresh token of the `spa` client at `tokenUrl`. */
export function refreshSpa(tokenUrl: string, refreshToken: string): Promise<TokenResponse> {
  return postForm(tokenUrl, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'spa' });
}

/** One HTTP answer of a sign-in through the pages, for tests that classify statuses. */
export type PageObserver = (
  step: 'authorize' | 'page' | 'login' | 'confirm' | 'resume' | 'token',
  response: { readonly status: number; readonly headers: Headers; readonly body?: unknown },
) => void;

/**
 * Signs in the way a person does: the authorization request, the sign-in page (email +
 * password, CSRF token), the consent page ("Allow"), back to the client, then the code redeemed
 * at `tokenUrl`. No test-side shortcut touches Redis. Resolves with the token response, or with
 * the answer that stopped the flow (any status other than 200 for a page or 303 for a redirect).
 */
export async function signInThroughPages(options: {
  readonly issuer: string;
  readonly email: string;
  readonly password: string;
  readonly tokenUrl?: string;
  readonly observe?: PageObserver;
  /** The public client signing in (default: the test server's `spa`). */
  readonly client?: { readonly id: string; readonly redirectUri: string };
  /**
   * Redeems the code with a DPoP proof of this key (RFC 9449 §5), as a DPoP-bound client such as
   * the seeded `demo-spa` must: the tokens come back bound to it.
   */
  readonly dpop?: DpopKey;
  /**
   * The address a proxy in front of a `TRUST_PROXY=1` server would report for this person, for
   * drivers that play many people (limits count per address, as they do for people on many networks).
   */
  readonly forwardedFor?: string;
  /**
   * The authorization request's `prompt` (OpenID Connect Core §3.1.2.1): `consent` shows the consent
   * page even to an account whose consent for this client is remembered, as on a first sign-in.
   */
  readonly prompt?: 'consent' | 'login';
  /**
   * How the requests are sent (default `fetch`); a load generator on the server's own cores passes
   * {@link nodeHttpTransport}, which costs it a fraction of the CPU per request.
   */
  readonly transport?: PageTransport;
}): Promise<{ token?: TokenResponse; stoppedAt?: { status: number; headers: Headers; body: string } }> {
  const { issuer, observe } = options;
  const transport = options.transport ?? fetchTransport;
  const origin = new URL(issuer).origin;
  const client = options.client ?? { id: 'spa', redirectUri: REDIRECT_URI };
  const jar = new CookieJar();
  const verifier = oidc.randomPKCECodeVerifier();
  const url = new URL(`${issuer}/authorize`);
  url.search = new URLSearchParams({
    client_id: client.id,
    response_type: 'code',
    redirect_uri: client.redirectUri,
    scope: 'openid offline_access recipes:read',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: oidc.randomState(),
    ...(options.prompt ? { prompt: options.prompt } : {}),
  }).toString();
  const forwarded = options.forwardedFor ? { 'x-forwarded-for': options.forwardedFor } : undefined;
  const send = async (step: Parameters<PageObserver>[0], target: URL, form?: Record<string, string>) => {
    const answer = await transport({
      method: form ? 'POST' : 'GET',
      url: target,
      headers: {
        cookie: jar.header(),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...forwarded,
      },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    jar.storeLines(answer.setCookie);
    observe?.(step, { status: answer.status, headers: answer.headers(), body: answer.body });
    return answer;
  };
  const stopped = (answer: PageAnswer, body = answer.body) => ({
    stoppedAt: { status: answer.status, headers: answer.headers(), body },
  });
  let answer = await send('authorize', url);
  for (let hops = 0; hops < 12; hops++) {
    if (answer.status === 303 || answer.status === 302) {
      const target = new URL(String(answer.location), issuer);
      if (target.origin !== origin) {
        const code = target.searchParams.get('code');
        if (!code) return stopped(answer, target.href);
        const tokenUrl = options.tokenUrl ?? `${issuer}/token`;
        const proof = options.dpop
          ? { dpop: await dpopProof(options.dpop, { htm: 'POST', htu: tokenUrl }) }
          : undefined;
        const tokenAnswer = await transport({
          method: 'POST',
          url: new URL(tokenUrl),
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...proof },
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            code,
            redirect_uri: client.redirectUri,
            code_verifier: verifier,
            client_id: client.id,
          }).toString(),
        });
        const token: TokenResponse = {
          status: tokenAnswer.status,
          headers: tokenAnswer.headers(),
          body: parseJsonBody(tokenAnswer.body),
        };
        observe?.('token', token);
        return { token };
      }
      answer = await send(target.pathname.startsWith('/interaction/') ? 'page' : 'resume', target);
      continue;
    }
    if (answer.status !== 200) return stopped(answer);
    const action = answer.body.match(/<form method="post" action="([^"]+\/(login|confirm))">/);
    const csrf = answer.body.match(/name="csrf" value="([^"]+)"/)?.[1];
    if (!action?.[1] || !csrf) return stopped(answer);
    const target = new URL(action[1], issuer);
    answer =
      action[2] === 'login'
        ? await send('login', target, { csrf, email: options.email, password: options.password })
        : await send('confirm', target, { csrf });
  }
  throw new Error('too many steps');
}

/** Starts an authorization request and opens its sign-in page: path, cookies and CSRF token. */
export async function openSignInPage(
  issuer: string,
): Promise<{ path: string; cookies: string; csrf: string }> {
  const jar = new CookieJar();
  const start = await fetch(
    `${issuer}/authorize?${new URLSearchParams({
      client_id: 'spa',
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'openid offline_access recipes:read',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    })}`,
    { redirect: 'manual' },
  );
  jar.store(start);
  const path = String(start.headers.get('location'));
  const page = await fetch(`${issuer}${path}`, { headers: { cookie: jar.header() } });
  jar.store(page);
  const csrf = (await page.text()).match(/name="csrf" value="([^"]+)"/)?.[1];
  if (page.status !== 200 || !csrf) throw new Error(`no sign-in page at ${path}: ${page.status}`);
  return { path, cookies: jar.header(), csrf };
}

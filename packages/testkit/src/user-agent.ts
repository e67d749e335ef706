import type { GatehouseServer } from '@gatehouse/server';
import { CookieJar, getWithCookies } from './cookie-jar.ts';

/** The account of a test user (`<name>@example.test`), created on first use; returns its `sub`. */
export async function ensureAccount(server: GatehouseServer, name: string): Promise<string> {
  const email = `${name}@example.test`;
  const existing = await server.accounts.findByEmail(email);
  if (existing) return existing.id;
  const account = await server.accounts.create({
    email,
    password: `${name}-password-0123456789`,
    name,
    emailVerified: true,
  });
  return account.id;
}

/**
 * Plays the user's part of the code flow without rendering the sign-in pages: opens the
 * authorization URL, completes the interaction through oidc-provider's own models (login +
 * consent for every requested scope) as the real account `user`, follows the resume
 * redirect, and returns the final redirect URL. The pages themselves are tested in Chromium.
 * `forwardedFor` is the address a proxy in front of a `TRUST_PROXY=1` server would report, for
 * drivers that play many users (each limited per address, as people on many networks are).
 */
export async function authorize(
  server: GatehouseServer,
  authorizationUrl: URL | string,
  user = 'user-1',
  options: { readonly forwardedFor?: string } = {},
): Promise<URL> {
  const accountId = await ensureAccount(server, user);
  const jar = new CookieJar();
  const headers: Record<string, string> = options.forwardedFor
    ? { 'x-forwarded-for': options.forwardedFor }
    : {};
  let response = await getWithCookies(String(authorizationUrl), jar, headers);
  for (let hops = 0; hops < 10; hops++) {
    const location = response.headers.get('location');
    if (!location) throw new Error(`authorization stopped with ${response.status}: ${await response.text()}`);
    const url = new URL(location, server.config.issuer);
    const interaction = url.pathname.match(/^\/interaction\/([^/]+)$/);
    if (interaction?.[1]) {
      await finishInteraction(server, interaction[1], accountId);
      response = await getWithCookies(`${server.config.issuer}/authorize/${interaction[1]}`, jar, headers);
      continue;
    }
    if (!url.href.startsWith(server.config.issuer)) return url;
    response = await getWithCookies(url.href, jar, headers);
  }
  throw new Error('too many redirects');
}

/**
 * Completes interaction `uid` the way the login and consent pages would: signed in as
 * `accountId`, consent to every requested scope.
 */
export async function finishInteraction(
  server: GatehouseServer,
  uid: string,
  accountId: string,
): Promise<void> {
  const provider = server.host.provider;
  const interaction = await provider.Interaction.find(uid);
  if (!interaction) throw new Error(`interaction ${uid} not found`);
  const clientId = String(interaction.params.client_id);
  const grant = interaction.grantId
    ? ((await provider.Grant.find(interaction.grantId)) ?? new provider.Grant({ accountId, clientId }))
    : new provider.Grant({ accountId, clientId });
  const details = interaction.prompt.details as {
    missingOIDCScope?: string[];
    missingOIDCClaims?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const grantId = await grant.save();
  interaction.result = { login: { accountId }, consent: { grantId } };
  await interaction.save(Math.max(1, (interaction.exp ?? 0) - Math.floor(Date.now() / 1000)));
}

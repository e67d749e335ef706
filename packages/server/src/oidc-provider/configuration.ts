import type { JWK } from 'jose';
import type {
  AdapterConstructor,
  ClientMetadata,
  Configuration,
  FindAccount,
  KoaContextWithOIDC,
} from 'oidc-provider';
import { clientMetadataPolicy } from '../clients/client-metadata-policy.ts';
import type { Config } from '../config/config.ts';
import { createResourceIndicators, refuseUncoveredResource } from '../tokens/resource-indicators.ts';
import { allowClientOrigin } from './cors-policy.ts';
import { persistingSession } from './oidc-provider-quirks.ts';
import { PROVIDER_ROUTES } from './provider-routes.ts';

/** Page renderers oidc-provider calls for its own screens (device code, logout, errors). */
export type ProviderPages = Pick<
  NonNullable<NonNullable<Configuration['features']>['deviceFlow']>,
  'userCodeInputSource' | 'userCodeConfirmSource' | 'successSource'
> &
  Pick<
    NonNullable<NonNullable<Configuration['features']>['rpInitiatedLogout']>,
    'logoutSource' | 'postLogoutSuccessSource'
  > &
  Pick<Configuration, 'renderError'>;

export interface ProviderDeps {
  readonly config: Config;
  readonly adapter: AdapterConstructor;
  /**
   * Private JWKs; the signing keys first (oidc-provider signs with the first key of an alg): the
   * main key and the RS256 key for ID tokens.
   */
  readonly jwks: readonly JWK[];
  /** Algorithm of the main key: what access tokens are signed with. */
  readonly signingAlg: 'ES256' | 'EdDSA';
  readonly cookieKeys: readonly string[];
  /** 32 bytes every instance derives alike from GATEHOUSE_SECRET: DPoP nonces are computed, not stored. */
  readonly dpopNonceSecret: Buffer;
  readonly staticClients: readonly ClientMetadata[];
  readonly findAccount: FindAccount;
  /** Finds an account's existing grant for a client, so consent is remembered across browsers. */
  readonly loadExistingGrant?: Configuration['loadExistingGrant'];
  /** Prompts of the interaction (sign in again when the account was disabled or revoked). */
  readonly interactionPolicy?: NonNullable<Configuration['interactions']>['policy'];
  readonly pages?: Partial<ProviderPages>;
  /** Set by the token-endpoint middleware for a reuse-window replay that must not rotate again. */
  readonly skipRotation: (ctx: KoaContextWithOIDC) => boolean;
}

export const OIDC_SCOPES = ['openid', 'offline_access', 'profile', 'email'] as const;

/** Seconds an ID token lives; signing keys must stay published at least this long after retiring. */
export const ID_TOKEN_TTL = 3600;

/** Seconds a sign-in (oidc-provider interaction) may take. */
export const INTERACTION_TTL = 3600;

/**
 * Seconds a session without an account lives: long enough for the device code page's form (a
 * device code lives as long), short enough that anonymous page views cannot fill the store.
 */
export const ANONYMOUS_SESSION_TTL = 600;

/** A signed-in session lives as long as a refresh token family; an anonymous one minutes. */
export function sessionTTL(session: { accountId?: unknown }, refreshTokenTTL: number): number {
  return typeof session.accountId === 'string' && session.accountId !== ''
    ? refreshTokenTTL
    : ANONYMOUS_SESSION_TTL;
}

/** The oidc-provider configuration of Gatehouse's OAuth 2.1 profile. */
export function buildProviderConfiguration(deps: ProviderDeps): Configuration {
  const { config, signingAlg } = deps;
  const resourceScopes = config.resources.flatMap((r) => r.scopes);
  const secureCookies = new URL(config.issuer).protocol === 'https:';
  const cookie = { httpOnly: true, sameSite: 'lax' as const, secure: secureCookies, signed: true };

  return {
    adapter: deps.adapter,
    clients: [...deps.staticClients],
    findAccount: deps.findAccount,
    // jose's JWK and oidc-provider's JWK type describe the same JSON; the latter is looser.
    jwks: { keys: deps.jwks.map((jwk) => ({ ...jwk })) as NonNullable<Configuration['jwks']>['keys'] },
    cookies: {
      keys: [...deps.cookieKeys],
      long: cookie,
      short: cookie,
    },
    claims: {
      openid: ['sub'],
      profile: ['name'],
      email: ['email', 'email_verified'],
    },
    scopes: [...OIDC_SCOPES, ...resourceScopes],
    // OAuth 2.1: no implicit or hybrid flows.
    responseTypes: ['code'],
    // OAuth 2.1 §4.1.1 / RFC 9700 §2.1.1: PKCE for every client, public and confidential.
    pkce: { required: () => true },
    // RFC 9700 §4.14.2: rotate on every use for every client.
    rotateRefreshToken: (ctx) => {
      refuseUncoveredResource(ctx);
      return !deps.skipRotation(ctx);
    },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    extraClientMetadata: clientMetadataPolicy(),
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      // OIDC Registration §2: RS256 for a client that registers no ID token algorithm, the one
      // OIDC Core §15.1 makes every relying party implement. oidc-provider would sign JWT access
      // tokens with this too, were their alg not set per resource (resources.ts: signingAlg).
      id_token_signed_response_alg: 'RS256',
    },
    // oidc-provider advertises (and lets clients register) those of these that a key in `jwks`
    // can sign: every generation has a main key (ES256 or EdDSA) and an RS256 key.
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256', 'ES256', 'EdDSA'],
      userinfoSigningAlgValues: ['RS256', 'ES256', 'EdDSA'],
      introspectionSigningAlgValues: ['RS256', 'ES256', 'EdDSA'],
      authorizationSigningAlgValues: ['RS256', 'ES256', 'EdDSA'],
      // RFC 9449 §5.1 `dpop_signing_alg_values_supported`: what browsers (WebCrypto ECDSA P-256,
      // Ed25519) and openid-client make. Ed25519 is the fully-specified name of EdDSA on that
      // curve (RFC 9864); oidc-provider knows both, and a client may use either.
      dPoPSigningAlgValues: ['ES256', 'Ed25519', 'EdDSA'],
    },
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? config.accessTokenTTL,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? config.accessTokenTTL,
      AuthorizationCode: 60,
      DeviceCode: 600,
      IdToken: ID_TOKEN_TTL,
      Interaction: INTERACTION_TTL,
      // REFRESH_TOKEN_TTL is the absolute lifetime of a token family: a rotated token
      // inherits what is left of it (iiat = issued-at of the family's first token).
      RefreshToken: (_ctx, token) => {
        const now = Math.floor(Date.now() / 1000);
        const started = token.iiat ?? now;
        return Math.max(1, started + config.refreshTokenTTL - now);
      },
      Grant: config.refreshTokenTTL,
      Session: (_ctx, session) => sessionTTL(session, config.refreshTokenTTL),
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // RFC 9449. oidc-provider binds access tokens issued with a proof (`cnf.jkt`, token type
      // DPoP) at every grant, binds public clients' refresh tokens to the proof's key, and honours
      // the client metadata `dpop_bound_access_tokens`. The nonce secret is shared by every
      // instance (derived from GATEHOUSE_SECRET), so a nonce one issued is accepted by all;
      // replayed proofs are refused through the store (`detectReplayAtomically`).
      dPoP: {
        enabled: true,
        nonceSecret: deps.dpopNonceSecret,
        requireNonce: () => config.dpopRequireNonce,
        allowReplay: false,
      },
      deviceFlow: {
        enabled: true,
        ...pick(deps.pages, ['userCodeConfirmSource', 'successSource']),
        ...(deps.pages?.userCodeInputSource
          ? {
              userCodeInputSource: persistingSession(deps.pages.userCodeInputSource, cookie, (session) =>
                sessionTTL(session, config.refreshTokenTTL),
              ),
            }
          : {}),
      },
      introspection: {
        enabled: true as const,
        // RFC 7662 §4: never tell one client about another client's token.
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      revocation: { enabled: true },
      rpInitiatedLogout: { enabled: true, ...pick(deps.pages, ['logoutSource', 'postLogoutSuccessSource']) },
      resourceIndicators: createResourceIndicators(config.resources, {
        accessTokenTTL: config.accessTokenTTL,
        signingAlg,
      }),
      registration: config.registrationToken
        ? { enabled: true, initialAccessToken: config.registrationToken }
        : { enabled: false },
      userinfo: { enabled: true },
    },
    // The grant id lets resource servers honour revocation of JWT access tokens.
    // Not async: oidc-provider awaits whatever it gets, and a client-credentials token (no grant)
    // needs no promise for its `undefined`.
    extraTokenClaims: (_ctx, token) =>
      'grantId' in token && token.grantId ? { gid: token.grantId } : undefined,
    interactions: {
      ...(deps.interactionPolicy ? { policy: deps.interactionPolicy } : {}),
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    ...(deps.loadExistingGrant ? { loadExistingGrant: deps.loadExistingGrant } : {}),
    // OIDC Core §5.4 puts scope claims at userinfo only when an access token for userinfo is
    // issued; Gatehouse's access tokens are for APIs, so the claims ride in the ID token.
    conformIdTokenClaims: false,
    ...(deps.pages?.renderError ? { renderError: deps.pages.renderError } : {}),
    // Browsers read token, revocation and userinfo responses only from the client's own origin.
    clientBasedCORS: allowClientOrigin,
    routes: { ...PROVIDER_ROUTES },
  };
}

function pick<T extends object, K extends keyof T>(
  source: T | undefined,
  keys: readonly K[],
): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  if (!source) return out;
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key];
  return out;
}

import { type ClientMetadata, type Configuration, errors } from 'oidc-provider';

/**
 * The scope a client registered without one receives. RFC 7591 §2 lets the server "register a
 * client with a default set of scopes"; oidc-provider's own default (no `scope` = every scope
 * the server knows, API scopes included) would let any registrant ask for any API. Sign-in and
 * the identity claims every OpenID library asks for by default (`openid profile email`), each
 * behind the consent page; `offline_access` and API scopes must be registered by name.
 */
export const DEFAULT_CLIENT_SCOPE = 'openid profile email';

/**
 * Shortest `client_secret` an operator may choose. Secrets must be unguessable on their own
 * (client authentication is not locked out per client); generated secrets are 43+ characters.
 */
export const MIN_CLIENT_SECRET_LENGTH = 32;

/** A refused field and why, e.g. `{ field: 'redirect_uris[0]', problem: 'http is only …' }`. */
export interface ClientMetadataProblem {
  readonly field: string;
  readonly problem: string;
}

// RFC 8252 §7.3 / §8.3: loopback redirects stay on the user's own machine.
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
// RFC 8252 §7.1: a private-use scheme is a reverse-DNS name of a domain the app's owner controls.
const REVERSE_DNS_SCHEME = /^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:$/;
const REDIRECT_FIELDS = ['redirect_uris', 'post_logout_redirect_uris'] as const;

/** https, or http that stays on the user's own machine. */
const onHttpsOrLoopback = (url: URL): boolean =>
  url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));

function redirectProblem(uri: string, native: boolean): string | undefined {
  // What does not parse is left to oidc-provider's own checks, which name it.
  const url = URL.parse(uri);
  if (url === null || onHttpsOrLoopback(url)) return undefined;
  if (url.protocol === 'http:') return 'http is only allowed for localhost, 127.0.0.1 or [::1] (use https)';
  if (!native) {
    return 'must use https (or http on localhost); private-use URI schemes need application_type native';
  }
  return REVERSE_DNS_SCHEME.test(url.protocol)
    ? undefined
    : 'must use https, http on a loopback address or a reverse-DNS private-use scheme such as com.example.app: (RFC 8252 §7.1)';
}

/**
 * Gatehouse's client policy on top of oidc-provider's schema, for every client however it
 * arrives (clients file, `gatehouse clients add`, RFC 7591 registration): no client credentials
 * grant without client authentication, redirect URIs on https (http only on loopback; a native
 * app may use its reverse-DNS scheme), `jwks_uri` on https (http only on loopback), operator-chosen secrets of at least
 * {@link MIN_CLIENT_SECRET_LENGTH} characters. Fields the provider's defaults fill
 * (`token_endpoint_auth_method` → client_secret_basic, `application_type` → web) are read with
 * those defaults. Values of the wrong type are left to oidc-provider's schema.
 *
 * @example
 * clientMetadataProblem({ token_endpoint_auth_method: 'none', grant_types: ['client_credentials'] });
 * // { field: 'grant_types', problem: 'client_credentials needs a confidential client (…)' }
 */
export function clientMetadataProblem(
  metadata: Readonly<Record<string, unknown>>,
): ClientMetadataProblem | undefined {
  const authMethod = metadata.token_endpoint_auth_method ?? 'client_secret_basic';
  const grants = Array.isArray(metadata.grant_types) ? (metadata.grant_types as unknown[]) : [];
  // RFC 6749 §4.4: the client credentials grant MUST only be used by confidential clients.
  if (authMethod === 'none' && grants.includes('client_credentials')) {
    return {
      field: 'grant_types',
      problem: 'client_credentials needs a confidential client (token_endpoint_auth_method other than none)',
    };
  }
  const secret = metadata.client_secret;
  if (typeof secret === 'string' && secret.length < MIN_CLIENT_SECRET_LENGTH) {
    return { field: 'client_secret', problem: `must be at least ${MIN_CLIENT_SECRET_LENGTH} characters` };
  }
  // The keys that authenticate the client (private_key_jwt) or encrypt to it: fetched over plain
  // http from a remote host, anyone on the path could swap in their own and sign as the client.
  const jwksUri = typeof metadata.jwks_uri === 'string' ? URL.parse(metadata.jwks_uri) : null;
  if (jwksUri && !onHttpsOrLoopback(jwksUri)) {
    return { field: 'jwks_uri', problem: 'must use https (http only on localhost, 127.0.0.1 or [::1])' };
  }
  const native = metadata.application_type === 'native';
  for (const field of REDIRECT_FIELDS) {
    const uris = metadata[field];
    if (!Array.isArray(uris)) continue;
    for (const [index, uri] of uris.entries()) {
      const problem = typeof uri === 'string' ? redirectProblem(uri, native) : undefined;
      if (problem !== undefined) return { field: `${field}[${index}]`, problem };
    }
  }
  return undefined;
}

/** `scope` as given, or {@link DEFAULT_CLIENT_SCOPE} when absent or empty (empty means "every scope" to oidc-provider). */
export function scopeOrDefault(scope: string | undefined): string {
  return scope === undefined || scope === '' ? DEFAULT_CLIENT_SCOPE : scope;
}

/**
 * The policy as oidc-provider's `extraClientMetadata` hook, which runs whenever the provider
 * builds a client (static, stored or being registered), so nothing reaches the token endpoint
 * around it. A refusal is the library's `InvalidClientMetadata`: RFC 7591 §3.2.2
 * `invalid_client_metadata`, or `invalid_redirect_uri` for a redirect URI, with a description
 * that starts with the field. A client registering over RFC 7591 without a scope gets
 * {@link DEFAULT_CLIENT_SCOPE}.
 *
 * @example
 * new Provider(issuer, { extraClientMetadata: clientMetadataPolicy(), … });
 */
export function clientMetadataPolicy(): NonNullable<Configuration['extraClientMetadata']> {
  return {
    // The hook runs once per listed property; `scope` is standard metadata, so listing it
    // admits nothing new and makes the provider call the validator exactly once per client.
    properties: ['scope'],
    validator(ctx, _key, _value, metadata: ClientMetadata) {
      const refused = clientMetadataProblem(metadata);
      if (refused) throw new errors.InvalidClientMetadata(`${refused.field} ${refused.problem}`);
      // oidc-provider passes ctx only while registering (or updating) a client.
      if (ctx !== undefined) metadata.scope = scopeOrDefault(metadata.scope);
    },
  };
}

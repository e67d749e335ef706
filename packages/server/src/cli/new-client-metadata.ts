import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { clientMetadataProblem, scopeOrDefault } from '../clients/client-metadata-policy.ts';
import { GRANT_TYPES } from '../tokens/grant-types.ts';
import { CliError } from './cli-error.ts';

/** Client metadata as stored for oidc-provider's `Client` model (RFC 7591 §2 field names). */
export type ClientMetadata = Readonly<Record<string, unknown>> & {
  readonly client_id: string;
  readonly client_secret?: string;
};

const absoluteUri = z.string().refine((value) => URL.canParse(value), 'must be an absolute URI');

/**
 * RFC 6749 §3.1.2: absolute, no fragment. Which schemes and hosts are allowed is the shared
 * client policy's call (`clientMetadataProblem`), the same for every way a client arrives.
 */
const redirectUri = absoluteUri.superRefine((value, ctx) => {
  // zod runs this refinement even when the one above failed.
  if (!URL.canParse(value)) return;
  if (new URL(value).hash !== '' || value.includes('#'))
    ctx.addIssue({ code: 'custom', message: 'must not contain a fragment' });
});

// RFC 6749 §3.3 scope tokens (NQCHAR), space-separated.
const scope = z
  .string()
  .regex(/^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/, 'must be space-separated scope tokens');

// OAuth 2.1 §10 drops these; naming them beats "invalid option".
const REMOVED_GRANT_TYPES = new Set(['implicit', 'password']);

const AUTH_METHODS = [
  'none',
  'client_secret_basic',
  'client_secret_post',
  'client_secret_jwt',
  'private_key_jwt',
] as const;
const SECRET_AUTH_METHODS = new Set(['client_secret_basic', 'client_secret_post', 'client_secret_jwt']);

const grantType = z.string().superRefine((value, ctx) => {
  if (REMOVED_GRANT_TYPES.has(value)) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not allowed in OAuth 2.1` });
  } else if (!(GRANT_TYPES as readonly string[]).includes(value)) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not supported (${GRANT_TYPES.join(', ')})` });
  }
});

const text = z.string().min(1, 'must not be empty');
const alg = z.string().min(1, 'must be a JWA algorithm name');

// RFC 7591 §2, OpenID Connect Registration §2 and the extensions oidc-provider recognizes.
// Unknown fields are refused: an operator's `redirect_uri` typo should fail here, not at login.
const metadataSchema = z
  .object({
    // Printable ASCII without braces: the id becomes part of a Redis Cluster hash tag.
    client_id: z
      .string()
      .regex(/^[\x21-\x7A\x7C\x7E]{1,255}$/, 'must be 1-255 printable ASCII characters without braces'),
    client_secret: z.string(),
    redirect_uris: z.array(redirectUri),
    post_logout_redirect_uris: z.array(redirectUri),
    token_endpoint_auth_method: z.enum(AUTH_METHODS, {
      message: `must be one of ${AUTH_METHODS.join(', ')}`,
    }),
    grant_types: z.array(grantType),
    response_types: z.array(z.literal('code', { message: 'only "code" is supported (OAuth 2.1)' })),
    client_name: text,
    client_uri: absoluteUri,
    logo_uri: absoluteUri,
    tos_uri: absoluteUri,
    policy_uri: absoluteUri,
    initiate_login_uri: absoluteUri,
    sector_identifier_uri: absoluteUri,
    backchannel_logout_uri: absoluteUri,
    backchannel_logout_session_required: z.boolean(),
    jwks_uri: absoluteUri,
    jwks: z.object({ keys: z.array(z.looseObject({ kty: z.string() })) }),
    scope,
    contacts: z.array(text),
    software_id: text,
    software_version: text,
    application_type: z.enum(['web', 'native'], { message: 'must be web or native' }),
    subject_type: z.enum(['public', 'pairwise'], { message: 'must be public or pairwise' }),
    default_max_age: z.number().int().nonnegative(),
    default_acr_values: z.array(text),
    require_auth_time: z.boolean(),
    require_pushed_authorization_requests: z.boolean(),
    require_signed_request_object: z.boolean(),
    dpop_bound_access_tokens: z.boolean(),
    id_token_signed_response_alg: alg,
    userinfo_signed_response_alg: alg,
    introspection_signed_response_alg: alg,
    authorization_signed_response_alg: alg,
    request_object_signing_alg: alg,
    token_endpoint_auth_signing_alg: alg,
  })
  .partial()
  .strict();

function fail(field: string, problem: string): never {
  throw new CliError(`invalid client metadata: ${field} ${problem}`);
}

function fieldOf(path: readonly PropertyKey[]): string {
  return path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`))
    .join('');
}

/**
 * Validates client metadata (RFC 7591 §2 names) and completes it for storage: a generated
 * `client_id` when absent, a generated `client_secret` for a confidential client that uses a
 * secret, `client_id_issued_at`, `client_secret_expires_at` (RFC 7591 §3.2.1; 0 = never) and
 * the default scope when none is given. The client policy is the server's own
 * (`clientMetadataProblem`). Throws {@link CliError} with one line naming the offending field.
 *
 * @example
 * newClientMetadata({ redirect_uris: ['https://app.example/cb'] }, 1_700_000_000);
 * // { client_id: '…', client_secret: '…', client_id_issued_at: 1700000000, client_secret_expires_at: 0, … }
 */
export function newClientMetadata(input: unknown, now: number): ClientMetadata {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new CliError('invalid client metadata: expected a JSON object');
  }
  const parsed = metadataSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue?.code === 'unrecognized_keys')
      fail(`"${issue.keys[0]}"`, 'is not a recognized client metadata field');
    fail(fieldOf(issue?.path ?? []) || 'metadata', issue?.message ?? 'is invalid');
  }
  const metadata = parsed.data;

  // Absent fields take the provider's defaults (authorization_code + refresh_token, client_secret_basic).
  const grants = metadata.grant_types ?? ['authorization_code', 'refresh_token'];
  const authMethod = metadata.token_endpoint_auth_method ?? 'client_secret_basic';
  const usesCode = grants.includes('authorization_code');

  if (usesCode && (metadata.redirect_uris ?? []).length === 0) {
    fail('redirect_uris', 'must list at least one URI for the authorization_code grant');
  }
  if (!usesCode && (metadata.response_types ?? []).includes('code')) {
    fail('response_types', '"code" needs the authorization_code grant in grant_types');
  }
  if (grants.includes('refresh_token') && grants.length === 1) {
    fail('grant_types', 'refresh_token needs a grant that issues one (authorization_code or device_code)');
  }
  if (authMethod === 'none' && metadata.client_secret !== undefined) {
    fail('client_secret', 'must be absent for a public client (token_endpoint_auth_method none)');
  }
  if (authMethod === 'private_key_jwt' && metadata.jwks === undefined && metadata.jwks_uri === undefined) {
    fail('jwks', 'or jwks_uri is required for private_key_jwt');
  }
  if (metadata.jwks !== undefined && metadata.jwks_uri !== undefined) {
    fail('jwks', 'and jwks_uri must not both be present (RFC 7591 §2)');
  }
  if (metadata.client_secret !== undefined && !SECRET_AUTH_METHODS.has(authMethod)) {
    fail('client_secret', `is not used with token_endpoint_auth_method ${authMethod}`);
  }
  const refused = clientMetadataProblem({
    ...metadata,
    grant_types: grants,
    token_endpoint_auth_method: authMethod,
  });
  if (refused) fail(refused.field, refused.problem);

  const secret = SECRET_AUTH_METHODS.has(authMethod)
    ? (metadata.client_secret ?? randomBytes(32).toString('base64url'))
    : undefined;
  const { client_secret: _given, ...rest } = metadata;
  return {
    ...rest,
    client_id: metadata.client_id ?? randomUUID(),
    client_id_issued_at: now,
    // A client added without a scope may not ask for every scope, API scopes included.
    scope: scopeOrDefault(metadata.scope),
    // A client without the authorization_code grant must say so, or the provider's default
    // response_types ["code"] would make it invalid when loaded.
    ...(usesCode || metadata.response_types !== undefined ? {} : { response_types: [] }),
    ...(secret === undefined ? {} : { client_secret: secret, client_secret_expires_at: 0 }),
  };
}

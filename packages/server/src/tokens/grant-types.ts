/** The grant types Gatehouse's token endpoint serves (OAuth 2.1: no implicit, no password). */
export const GRANT_TYPES = [
  'authorization_code',
  'refresh_token',
  'client_credentials',
  'urn:ietf:params:oauth:grant-type:device_code',
] as const;

export type GrantType = (typeof GRANT_TYPES)[number];

/** Whether `value` is one of {@link GRANT_TYPES}, and so safe to repeat in a log or label. */
export function isGrantType(value: unknown): value is GrantType {
  return (GRANT_TYPES as readonly unknown[]).includes(value);
}

interface GrantTypeState {
  tokenGrantType?: GrantType;
}

/**
 * Notes the `grant_type` of a token request for the request log. Only a known grant type is
 * kept: the parameter is caller input, and anything else could be a pasted credential.
 */
export function noteTokenGrantType(ctx: { state: unknown }, value: unknown): void {
  if (isGrantType(value)) (ctx.state as GrantTypeState).tokenGrantType = value;
}

/** The grant type {@link noteTokenGrantType} kept for this request, if any. */
export function tokenGrantTypeOf(ctx: { state: unknown }): GrantType | undefined {
  return (ctx.state as GrantTypeState).tokenGrantType;
}

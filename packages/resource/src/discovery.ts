/**
 * Reads `jwks_uri` from the issuer's OpenID Provider metadata (OpenID Connect Discovery 1.0 §4), after
 * checking that the document names exactly this issuer (§4.3: mix-up protection).
 *
 * @throws {Error} when the document cannot be fetched or does not match; the verifier answers 503.
 * @example
 * ```ts
 * const jwksUri = await discoverJwksUri('https://auth.example.com', { timeout: 5000 });
 * ```
 */
export async function discoverJwksUri(issuer: string, options: { timeout: number }): Promise<URL> {
  // §4: the issuer with any trailing slash removed, then "/.well-known/openid-configuration".
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const response = await fetch(url, {
    headers: { accept: 'application/json' },
    redirect: 'manual',
    signal: AbortSignal.timeout(options.timeout),
  });
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
  const metadata: unknown = await response.json();
  if (typeof metadata !== 'object' || metadata === null) throw new Error(`${url} is not a JSON object`);
  const { issuer: named, jwks_uri: jwksUri } = metadata as Record<string, unknown>;
  if (named !== issuer) throw new Error(`${url} names issuer ${JSON.stringify(named)}, expected ${issuer}`);
  if (typeof jwksUri !== 'string') throw new Error(`${url} has no jwks_uri`);
  return new URL(jwksUri);
}

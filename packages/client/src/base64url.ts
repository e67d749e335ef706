/**
 * Encodes bytes as unpadded base64url (RFC 4648 §5), the alphabet of PKCE, `state` and JWTs.
 *
 * @example
 * ```ts
 * base64urlEncode(new Uint8Array([251, 255])); // '-_8'
 * ```
 */
export function base64urlEncode(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * Decodes unpadded base64url to a UTF-8 string; throws on characters outside the alphabet.
 *
 * @example
 * ```ts
 * base64urlDecodeToString('eyJhIjoxfQ'); // '{"a":1}'
 * ```
 */
export function base64urlDecodeToString(input: string): string {
  const base64 = input.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(base64.padEnd(base64.length + ((4 - (base64.length % 4)) % 4), '='));
  return new TextDecoder().decode(Uint8Array.from(binary, (char) => char.charCodeAt(0)));
}

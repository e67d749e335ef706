import type { IncomingMessage } from 'node:http';

/** oidc-provider's own limit for form bodies; larger requests are refused before it parses. */
export const FORM_BODY_LIMIT = 56 * 1024;
/** Past this many bytes a client is not sending a form any more: stop reading and close. */
const DRAIN_LIMIT = 8 * 1024 * 1024;

export type BodyReadResult = { kind: 'ok'; body: Buffer } | { kind: 'too_large'; drained: boolean };

/**
 * Reads a request body up to `limit` bytes. An oversized body is drained (up to 8 MiB) so the
 * client receives our JSON error instead of a connection reset while it is still uploading.
 */
export async function readBody(req: IncomingMessage, limit = FORM_BODY_LIMIT): Promise<BodyReadResult> {
  const chunks: Buffer[] = [];
  let received = 0;
  let tooLarge = false;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    received += buffer.length;
    if (received > DRAIN_LIMIT) return { kind: 'too_large', drained: false };
    if (received > limit) tooLarge = true;
    if (!tooLarge) chunks.push(buffer);
  }
  return tooLarge
    ? { kind: 'too_large', drained: true }
    : { kind: 'ok', body: Buffer.concat(chunks, received) };
}

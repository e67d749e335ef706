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
export function readBody(req: IncomingMessage, limit = FORM_BODY_LIMIT): Promise<BodyReadResult> {
  // Listeners rather than `for await`: no async iterator and no promise per chunk for what is
  // nearly always one small chunk (this runs on every token request).
  if (req.readableEnded) return Promise.resolve({ kind: 'ok', body: Buffer.alloc(0) });
  return new Promise((resolve, reject) => {
    if (req.destroyed) {
      reject(Object.assign(new Error('request closed before its body was read'), { code: 'ECONNRESET' }));
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    let tooLarge = false;
    const settle = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (buffer: Buffer) => {
      received += buffer.length;
      if (received > DRAIN_LIMIT) {
        settle();
        // Stop reading, as leaving a `for await` loop does: the rest is not read.
        req.destroy();
        resolve({ kind: 'too_large', drained: false });
        return;
      }
      if (received > limit) tooLarge = true;
      if (!tooLarge) chunks.push(buffer);
    };
    const onEnd = () => {
      settle();
      resolve(
        tooLarge
          ? { kind: 'too_large', drained: true }
          : {
              kind: 'ok',
              body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received),
            },
      );
    };
    const onError = (err: Error) => {
      settle();
      reject(err);
    };
    // Closed before its end (the client hung up mid-body): nothing to answer.
    const onClose = () => {
      settle();
      reject(Object.assign(new Error('request closed before its body was read'), { code: 'ECONNRESET' }));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

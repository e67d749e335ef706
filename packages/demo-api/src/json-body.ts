import type { Middleware } from 'koa';
import { ApiError } from './errors.ts';

const WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Parses `application/json` request bodies of POST/PUT/PATCH into `ctx.request.body`, refusing bodies
 * over `limit` bytes (413) while they stream in, other media types (415) and malformed JSON (400).
 *
 * @example
 * ```ts
 * app.use(jsonBody({ limit: 64 * 1024 }));
 * ```
 */
export function jsonBody(options: { limit: number }): Middleware {
  return async function jsonBody(ctx, next) {
    const hasBody = (ctx.request.length ?? 0) > 0 || ctx.get('transfer-encoding') !== '';
    if (!WITH_BODY.has(ctx.method) || !hasBody) return next();
    if (!ctx.is('application/json')) {
      throw new ApiError('unsupported_media_type', 415, 'request body must be application/json');
    }
    if ((ctx.request.length ?? 0) > options.limit) throw tooLarge(options.limit);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > options.limit) throw tooLarge(options.limit);
      chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    try {
      (ctx.request as { body?: unknown }).body = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new ApiError('invalid_request', 400, 'request body is not valid JSON');
    }
    await next();
  };
}

function tooLarge(limit: number): ApiError {
  return new ApiError('payload_too_large', 413, `request body exceeds ${limit} bytes`);
}

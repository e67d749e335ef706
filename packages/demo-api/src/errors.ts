import type { Middleware } from 'koa';

/**
 * Error codes of the demo API's JSON error bodies (besides the RFC 6750 ones of `@gatehouse/resource`).
 *
 * @example
 * ```ts
 * const { error }: { error: ApiErrorCode } = await response.json();
 * ```
 */
export type ApiErrorCode =
  | 'invalid_request'
  | 'validation_failed'
  | 'not_found'
  | 'forbidden'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'server_error';

/**
 * An error the API answers with `status` and a JSON `{ error, error_description }` body.
 *
 * @example
 * ```ts
 * throw new ApiError('not_found', 404, 'no recipe with id 42');
 * ```
 */
export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly status: number;
  constructor(code: ApiErrorCode, status: number, description: string) {
    super(description);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
  }
}

/**
 * The one error middleware: renders {@link ApiError}s and Koa's exposed HTTP errors as JSON, and every
 * other failure as a bare 500 (a 5xx never leaks detail).
 *
 * @example
 * ```ts
 * app.use(errorHandler((err) => logger.error({ err })));
 * ```
 */
export function errorHandler(report: (error: unknown) => void = () => {}): Middleware {
  return async function errorHandler(ctx, next) {
    try {
      await next();
    } catch (err) {
      if (err instanceof ApiError) {
        ctx.status = err.status;
        ctx.body = { error: err.code, error_description: err.message };
        return;
      }
      const status = (err as { status?: unknown }).status;
      if (
        typeof status === 'number' &&
        status >= 400 &&
        status < 500 &&
        (err as { expose?: unknown }).expose
      ) {
        ctx.status = status;
        ctx.body = { error: 'invalid_request', error_description: (err as Error).message };
        return;
      }
      report(err);
      ctx.status = 500;
      ctx.body = { error: 'server_error', error_description: 'internal server error' };
    }
  };
}

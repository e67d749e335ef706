import { type ParsedUrlQuery, parse } from 'node:querystring';
import type { Context } from 'koa';
import { type BodyReadResult, FORM_BODY_LIMIT, readBody } from './request-body.ts';

export type FormBodyResult =
  | {
      kind: 'ok';
      params: ParsedUrlQuery;
      /** The form as sent (UTF-8), for a reader that parses it again (oidc-provider). */
      text: string;
    }
  | { kind: 'too_large' };

/**
 * The one reader of `application/x-www-form-urlencoded` bodies, for the provider's endpoints
 * and for the pages alike: the body up to `limit` bytes, parsed as oidc-provider parses it
 * (repeated fields become arrays). An oversized body is reported, not thrown, so each caller
 * answers in its own format (RFC 6749 §5.2 JSON or a page); when even draining gave up, the
 * connection is marked to close, because the rest of the body is still on the wire.
 */
export async function readFormBody(ctx: Context, limit = FORM_BODY_LIMIT): Promise<FormBodyResult> {
  return formBodyOf(ctx, await readBody(ctx.req, limit));
}

/**
 * {@link readFormBody} after the body was read: for a caller that awaits {@link readBody} itself
 * (the provider's form endpoints, on every token request: one async frame fewer).
 */
export function formBodyOf(ctx: Context, read: BodyReadResult): FormBodyResult {
  if (read.kind === 'too_large') {
    if (!read.drained) ctx.set('Connection', 'close');
    return { kind: 'too_large' };
  }
  const text = read.body.toString('utf8');
  return { kind: 'ok', params: parse(text), text };
}

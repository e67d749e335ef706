import type { Context } from 'koa';
import { readBody } from '../provider/request-body.ts';

/** Sign-in forms are small; anything larger is not one of ours. */
export const PAGE_FORM_LIMIT = 16 * 1024;

/**
 * Reads an `application/x-www-form-urlencoded` body into single string values (the first of
 * repeated fields). Any other content type reads as an empty form, which then fails CSRF.
 * A body over {@link PAGE_FORM_LIMIT} throws a 413 that the pages render as a page. The body is
 * drained rather than abandoned: leaving the loop early would destroy the request and its
 * socket, and the browser would get no page at all.
 */
export async function readForm(ctx: Context): Promise<Map<string, string>> {
  const form = new Map<string, string>();
  if (!ctx.is('application/x-www-form-urlencoded')) return form;
  const read = await readBody(ctx.req, PAGE_FORM_LIMIT);
  if (read.kind === 'too_large') {
    // Past the drain limit the rest of the body is still on the wire: close after answering.
    if (!read.drained) ctx.set('Connection', 'close');
    ctx.throw(413, 'form too large');
  }
  for (const [key, value] of new URLSearchParams(read.body.toString('utf8'))) {
    if (!form.has(key)) form.set(key, value);
  }
  return form;
}

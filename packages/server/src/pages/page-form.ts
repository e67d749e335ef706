import type { Context } from 'koa';
import { readFormBody } from '../http/form-body.ts';

/** Sign-in forms are small; anything larger is not one of ours. */
export const PAGE_FORM_LIMIT = 16 * 1024;

/**
 * Reads a page's `application/x-www-form-urlencoded` body into single string values (the first
 * of repeated fields). Any other content type reads as an empty form, which then fails CSRF.
 * A body over {@link PAGE_FORM_LIMIT} throws a 413 that the pages render as a page. The body is
 * drained rather than abandoned: leaving the loop early would destroy the request and its
 * socket, and the browser would get no page at all.
 */
export async function readForm(ctx: Context): Promise<Map<string, string>> {
  const form = new Map<string, string>();
  if (!ctx.is('application/x-www-form-urlencoded')) return form;
  const read = await readFormBody(ctx, PAGE_FORM_LIMIT);
  if (read.kind === 'too_large') ctx.throw(413, 'form too large');
  for (const [key, value] of Object.entries(read.params)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) form.set(key, first);
  }
  return form;
}

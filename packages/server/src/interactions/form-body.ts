import type { Context } from 'koa';

/** Sign-in forms are small; anything larger is not one of ours. */
const FORM_LIMIT = 16 * 1024;

/**
 * Reads an `application/x-www-form-urlencoded` body into single string values (the first of
 * repeated fields). Any other content type reads as an empty form, which then fails CSRF.
 */
export async function readForm(ctx: Context): Promise<Map<string, string>> {
  const form = new Map<string, string>();
  if (!ctx.is('application/x-www-form-urlencoded')) return form;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > FORM_LIMIT) ctx.throw(413, 'form too large');
    chunks.push(chunk as Buffer);
  }
  for (const [key, value] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) {
    if (!form.has(key)) form.set(key, value);
  }
  return form;
}

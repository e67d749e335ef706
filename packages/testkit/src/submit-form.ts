/**
 * Loads `page` (a server-rendered form), then posts `fields` to `action` with the page's CSRF token
 * and session cookie, as a browser submitting that form would.
 *
 * @example
 * const { status, body } = await submitForm(origin, '/forgot-password', '/forgot-password', { email });
 */
export async function submitForm(
  origin: string,
  page: string,
  action: string,
  fields: Record<string, string>,
): Promise<{ status: number; body: string }> {
  const form = await fetch(`${origin}${page}`);
  const cookie = (form.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  const response = await fetch(`${origin}${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    body: new URLSearchParams({ csrf, ...fields }),
  });
  return { status: response.status, body: await response.text() };
}

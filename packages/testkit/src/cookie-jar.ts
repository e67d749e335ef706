/** The cookies of one user agent: what `Set-Cookie` stored, sent back as one `Cookie` header. */
export class CookieJar {
  readonly #cookies = new Map<string, string>();

  /** The `Cookie` request header for everything stored so far. */
  header(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  /** Keeps every cookie the response sets (name and value; attributes are not needed by the tests). */
  store(response: Response): void {
    this.storeLines(response.headers.getSetCookie());
  }

  /** The same, from the `Set-Cookie` lines themselves. */
  storeLines(lines: readonly string[]): void {
    for (const line of lines) {
      const [pair] = line.split(';');
      const at = pair?.indexOf('=') ?? -1;
      if (!pair || at < 0) continue;
      this.#cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1));
    }
  }
}

/**
 * GET `url` with the jar's cookies (and `headers`, such as the `X-Forwarded-For` a proxy would
 * add) without following redirects; stores what the response sets.
 */
export async function getWithCookies(
  url: string,
  jar: CookieJar,
  headers: Readonly<Record<string, string>> = {},
): Promise<Response> {
  const response = await fetch(url, { redirect: 'manual', headers: { ...headers, cookie: jar.header() } });
  jar.store(response);
  return response;
}

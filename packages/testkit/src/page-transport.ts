import { type Agent, request } from 'node:http';

/** One request of a user agent walking the sign-in pages: never follows redirects. */
export interface PageRequest {
  readonly method: 'GET' | 'POST';
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  /** A form, already encoded (`application/x-www-form-urlencoded`). */
  readonly body?: string;
}

/** One answer, with what the sign-in walk reads from it straight at hand and the rest on demand. */
export interface PageAnswer {
  readonly status: number;
  readonly location: string | null;
  /** Each `Set-Cookie` line. */
  readonly setCookie: readonly string[];
  readonly body: string;
  /** Every header, built when asked (observers, reports). */
  headers(): Headers;
}

/** How the sign-in walk sends its requests. */
export type PageTransport = (request: PageRequest) => Promise<PageAnswer>;

/** `fetch` (undici), as tests use it: any scheme. */
export const fetchTransport: PageTransport = async ({ method, url, headers, body }) => {
  const response = await fetch(url, {
    method,
    redirect: 'manual',
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  return {
    status: response.status,
    location: response.headers.get('location'),
    setCookie: response.headers.getSetCookie(),
    body: text,
    headers: () => response.headers,
  };
};

/**
 * Node's `http` module over `agent`'s kept-alive connections: a user agent that costs its process a
 * fraction of what `fetch` does per request (no WHATWG Request, Response, Headers or body stream),
 * for load generators that share the server's cores. Plain `http:` only.
 *
 * @example
 * const transport = nodeHttpTransport(new Agent({ keepAlive: true }));
 */
export function nodeHttpTransport(agent: Agent): PageTransport {
  return ({ method, url, headers, body }) => {
    if (url.protocol !== 'http:')
      throw new TypeError(`nodeHttpTransport sends http: only, not ${url.protocol}`);
    return new Promise<PageAnswer>((resolve, reject) => {
      const sent = request(
        {
          agent,
          method,
          host: url.hostname,
          port: url.port,
          path: `${url.pathname}${url.search}`,
          headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
        },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            text += chunk;
          });
          response.on('error', reject);
          response.on('end', () => {
            const raw = response.headers;
            resolve({
              status: response.statusCode ?? 0,
              location: raw.location ?? null,
              setCookie: raw['set-cookie'] ?? [],
              body: text,
              headers: () => {
                const all = new Headers();
                for (const [name, value] of Object.entries(raw)) {
                  if (Array.isArray(value)) for (const one of value) all.append(name, one);
                  else if (value !== undefined) all.set(name, value);
                }
                return all;
              },
            });
          });
        },
      );
      sent.on('error', reject);
      sent.end(body);
    });
  };
}

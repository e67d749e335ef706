import { request } from 'node:http';

export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
  /** The body parsed as JSON, or `{ raw: text }`. */
  readonly body: Record<string, unknown>;
}

export interface RawRequest {
  readonly method?: string;
  /**
   * Sent as written: not normalised the way `fetch` and `URL` do (`/./token`, `//token`,
   * `%74oken` arrive as such), and may be an absolute-form target (`http://evil.example/…`).
   */
  readonly path: string;
  /** May include `host`, which `fetch` does not let a caller set. */
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Local address to send from (any 127.0.0.0/8 address), so each test has its own client IP. */
  readonly from?: string;
}

/**
 * One HTTP/1.1 request to a server on loopback, exactly as given: what an attacker with
 * `curl --path-as-is` or a raw socket sends.
 *
 * @example
 * await rawRequest(issuer, { path: '/TOKEN/', method: 'POST', body: 'grant_type=…' });
 */
export function rawRequest(base: string, options: RawRequest): Promise<RawResponse> {
  const target = new URL(base);
  if (!['127.0.0.1', 'localhost'].includes(target.hostname)) throw new Error('loopback targets only');
  const body = options.body ?? '';
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: target.port,
        path: options.path,
        method: options.method ?? 'GET',
        agent: false,
        ...(options.from ? { localAddress: options.from } : {}),
        headers: {
          ...(options.body !== undefined
            ? {
                'content-type': 'application/x-www-form-urlencoded',
                'content-length': String(Buffer.byteLength(body)),
              }
            : {}),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown>;
          try {
            parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
          } catch {
            parsed = { raw: text };
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

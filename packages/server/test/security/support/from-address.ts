import { request } from 'node:http';

export interface LoopbackResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Record<string, unknown>;
}

/**
 * POSTs a form from a chosen loopback address (the whole 127.0.0.0/8 is local on Linux), so
 * the server sees as many client addresses as a test needs without a proxy header. Only
 * ever to loopback.
 *
 * @example
 * await postFormFrom('127.0.0.23', `${issuer}/token`, { grant_type: 'client_credentials' }, basic(id, secret));
 */
export function postFormFrom(
  localAddress: string,
  url: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<LoopbackResponse> {
  const target = new URL(url);
  if (!['127.0.0.1', 'localhost'].includes(target.hostname)) throw new Error('loopback targets only');
  const body = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: target.port,
        path: target.pathname,
        method: 'POST',
        localAddress,
        agent: false,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          ...headers,
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
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The `n`th test address, 127.0.0.<n> (n in 2–254). */
export function loopback(n: number): string {
  if (!Number.isInteger(n) || n < 2 || n > 254) throw new Error(`no loopback address ${n}`);
  return `127.0.0.${n}`;
}

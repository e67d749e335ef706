import type { KoaContextWithOIDC } from 'oidc-provider';
import { describe, expect, it } from 'vitest';
import { escapeHtml, html } from '../../src/pages/html.ts';
import { createProviderPages } from '../../src/pages/index.ts';

function fakeContext(status: number): KoaContextWithOIDC {
  // Only what renderError touches: status, type and body.
  return { status, type: '', body: undefined } as unknown as KoaContextWithOIDC;
}

describe('html', () => {
  it('escapes every interpolation unless it is already markup', () => {
    const name = '<script>alert("x")</script>';
    expect(html`<p>${name}</p>`.value).toBe(`<p>${escapeHtml(name)}</p>`);
    expect(html`<p>${html`<b>${name}</b>`}</p>`.value).toBe(`<p><b>${escapeHtml(name)}</b></p>`);
    expect(html`<a title="${`" onmouseover="x`}">`.value).toBe('<a title="&quot; onmouseover=&quot;x">');
  });
});

describe('renderError', () => {
  const pages = createProviderPages();

  it('shows no detail of a server error', async () => {
    const ctx = fakeContext(500);
    const error = Object.assign(new Error('ECONNREFUSED 10.0.0.7:6379 at RedisAdapter.find'), {
      expose: false,
    });
    await pages.renderError(
      ctx,
      { error: 'server_error', error_description: 'oops! something went wrong' },
      error,
    );
    const body = String(ctx.body);
    expect(ctx.status).toBe(500);
    expect(body).toContain('Something went wrong on our side');
    expect(body).not.toMatch(/ECONNREFUSED|RedisAdapter|server_error|oops|stack|at /i);
    expect(body).not.toMatch(/<script|style=/);
  });

  it('names the protocol error of a client mistake, escaped', async () => {
    const ctx = fakeContext(400);
    const error = Object.assign(new Error('invalid_request'), { expose: true });
    await pages.renderError(ctx, { error: 'invalid_request', error_description: 'bad <param>' }, error);
    const body = String(ctx.body);
    expect(body).toContain('<code>invalid_request</code>');
    expect(body).toContain('bad &lt;param&gt;');
  });
});

// Server rendering: every export of the bindings renders with renderToString in Node, reads nothing of the
// browser (window, document, location, history, storage) and asks the client nothing (no discovery, no
// token request), and the markup is what the browser's first render will be (`loading`, the fallback).
import { createGatehouseClient, type GatehouseClient } from '@gatehouse/client';
import { createElement as h, StrictMode } from 'react';
import { renderToString } from 'react-dom/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  GatehouseProvider,
  RequireAuth,
  useAccessToken,
  useAuth,
  useAuthSnapshot,
  useGatehouseClient,
} from '../src/index.ts';

const BROWSER_GLOBALS = [
  'window',
  'document',
  'location',
  'history',
  'localStorage',
  'sessionStorage',
  'indexedDB',
] as const;

/** Records every read of a browser global while a test runs (Node has none of them; each reads as undefined). */
function watchBrowserGlobals(): { touched: string[]; restore(): void } {
  const touched: string[] = [];
  for (const name of BROWSER_GLOBALS) {
    Object.defineProperty(globalThis, name, {
      configurable: true,
      get() {
        touched.push(name);
        return undefined;
      },
    });
  }
  return {
    touched,
    restore: () => {
      for (const name of BROWSER_GLOBALS) Reflect.deleteProperty(globalThis, name);
    },
  };
}

function Status() {
  const { status, user, isLoading, signIn, signOut } = useAuth();
  const { accessToken, error } = useAccessToken({ resource: 'http://api.test', scope: 'recipes:read' });
  const client = useGatehouseClient();
  const snapshot = useAuthSnapshot(client);
  return h(
    'p',
    { id: 'status', onClick: () => void (status === 'signedIn' ? signOut() : signIn()) },
    `${status} ${snapshot.status} ${isLoading} ${user?.name ?? 'nobody'} ${accessToken ?? 'no-token'} ${error?.code ?? 'no-error'}`,
  );
}

describe('renderToString in Node', () => {
  let watch: ReturnType<typeof watchBrowserGlobals>;
  const requests: string[] = [];
  let auth: GatehouseClient;

  beforeEach(() => {
    requests.length = 0;
    auth = createGatehouseClient({
      issuer: 'http://gatehouse.test',
      clientId: 'demo-spa',
      redirectUri: 'http://app.test/callback',
      resource: 'http://api.test',
      fetch: async (input) => {
        requests.push(String(input instanceof Request ? input.url : input));
        return new Response('{}', { status: 500 });
      },
    });
    watch = watchBrowserGlobals();
  });
  afterEach(() => {
    watch.restore();
    auth.close();
  });

  it('renders every export without touching a browser global, showing the loading state and the fallback', async () => {
    const tree = h(
      StrictMode,
      null,
      h(
        GatehouseProvider,
        { client: auth },
        h(Status),
        h(
          RequireAuth,
          { fallback: h('p', { id: 'fallback' }, 'Checking your session…') },
          h('p', null, 'secret'),
        ),
      ),
    );
    const html = renderToString(tree);

    expect(html).toContain('loading loading true nobody no-token no-error');
    expect(html).toContain('Checking your session…');
    expect(html).not.toContain('secret');
    expect(watch.touched).toEqual([]);
    // Also once the client has read its (empty) storage: the server still renders `loading`, as the browser's
    // hydration will, so the markup matches.
    await auth.ready;
    expect(auth.getSnapshot().status).toBe('signedOut');
    expect(renderToString(tree)).toBe(html);
    expect(watch.touched).toEqual([]);
    expect(requests).toEqual([]);
  });

  it('a hook outside <GatehouseProvider> says what is missing', () => {
    expect(() => renderToString(h(Status))).toThrow(/no <GatehouseProvider client=\{…\}> above/);
  });
});

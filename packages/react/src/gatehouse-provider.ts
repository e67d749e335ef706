import type { GatehouseClient } from '@gatehouse/client';
import { createContext, createElement, type ReactNode, useContext } from 'react';

const GatehouseContext = createContext<GatehouseClient | undefined>(undefined);

/**
 * Props of {@link GatehouseProvider}.
 *
 * @example
 * ```ts
 * const props: GatehouseProviderProps = { client: auth, children: null };
 * ```
 */
export interface GatehouseProviderProps {
  /** One client for the whole app, created once (at module scope of browser-only code, or in a `useState`). */
  client: GatehouseClient;
  children?: ReactNode;
}

/**
 * Makes a client available to `useAuth()`, `useAccessToken()` and `<RequireAuth>` below it. It only passes
 * the client down: nothing runs while rendering, so it renders on the server as in the browser.
 *
 * @example
 * ```tsx
 * createRoot(root).render(<GatehouseProvider client={auth}><App /></GatehouseProvider>);
 * ```
 */
export function GatehouseProvider({ client, children }: GatehouseProviderProps): ReactNode {
  return createElement(GatehouseContext.Provider, { value: client }, children);
}

/**
 * The client of the nearest `<GatehouseProvider>`, for what the hooks do not cover (`auth.http`, `on()`).
 * Throws when there is none: a missing provider is a wiring mistake, better found at the first render.
 *
 * @example
 * ```ts
 * const auth = useGatehouseClient();
 * const recipes = await auth.http.get('https://api.example.com/me/recipes').json();
 * ```
 */
export function useGatehouseClient(): GatehouseClient {
  const client = useContext(GatehouseContext);
  if (!client) throw new Error('useGatehouseClient: no <GatehouseProvider client={…}> above this component');
  return client;
}

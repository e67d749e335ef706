// The browser entry: one client for the page, then hydration of the server-rendered markup. Hydration
// problems are reported as console errors, which the test collects.
import { createGatehouseClient, hybridStorage } from '@gatehouse/client';
import { hydrateRoot } from 'react-dom/client';
import { Root } from './app.tsx';

const { issuer, apiUrl, clientId } = JSON.parse(document.querySelector('#config')?.textContent ?? '{}') as {
  issuer: string;
  apiUrl: string;
  clientId: string;
};
const auth = createGatehouseClient({
  issuer,
  clientId,
  redirectUri: `${location.origin}/callback`,
  postLogoutRedirectUri: `${location.origin}/`,
  scope: 'openid profile offline_access recipes:read',
  resource: apiUrl,
  storage: hybridStorage(),
  apiOrigins: [apiUrl],
});
hydrateRoot(document.querySelector('#root') as Element, <Root client={auth} apiUrl={apiUrl} />, {
  onRecoverableError: (error) => console.error('recoverable error:', error),
});

import { basic, SERVICE_SECRET } from '@gatehouse/testkit/clients';
import { API_AUDIENCE } from './audience.ts';

/**
 * The client-credentials token request every scenario sends as the `service` client: a JWT access token for
 * the demo API with `recipes:read`. Usable as `fetch` init and as an autocannon request.
 */
export const serviceTokenRequest = {
  method: 'POST' as const,
  headers: {
    'content-type': 'application/x-www-form-urlencoded',
    ...basic('service', SERVICE_SECRET),
  },
  body: new URLSearchParams({
    grant_type: 'client_credentials',
    scope: 'recipes:read',
    resource: API_AUDIENCE,
  }).toString(),
};

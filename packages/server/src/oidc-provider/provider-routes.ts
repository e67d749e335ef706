import type { Configuration } from 'oidc-provider';

/**
 * Where oidc-provider serves each endpoint. Every key is set, also for features Gatehouse does
 * not enable, so that a version of oidc-provider with a new endpoint fails the typecheck here
 * instead of serving it at a path {@link PROVIDER_PATH_TEMPLATES} does not know.
 */
export const PROVIDER_ROUTES: { readonly [K in keyof NonNullable<Configuration['routes']>]-?: string } =
  Object.freeze({
    authorization: '/authorize',
    token: '/token',
    revocation: '/revoke',
    introspection: '/introspect',
    device_authorization: '/device/auth',
    code_verification: '/device',
    end_session: '/session/end',
    jwks: '/jwks',
    registration: '/register/client',
    userinfo: '/userinfo',
    pushed_authorization_request: '/par',
    // Not enabled; named so that nothing is served at a path chosen by the library's defaults.
    backchannel_authentication: '/backchannel',
    challenge: '/challenge',
    credential: '/credential',
  });

/**
 * Every path oidc-provider routes, a `:name` segment standing for any one non-empty segment:
 * the configured routes plus those the library derives from them or fixes itself.
 */
export const PROVIDER_PATH_TEMPLATES: readonly string[] = Object.freeze([
  ...Object.values(PROVIDER_ROUTES),
  '/.well-known/openid-configuration',
  '/.well-known/oauth-authorization-server',
  '/.well-known/openid-credential-issuer',
  `${PROVIDER_ROUTES.authorization}/:uid`,
  `${PROVIDER_ROUTES.code_verification}/:uid`,
  `${PROVIDER_ROUTES.end_session}/confirm`,
  `${PROVIDER_ROUTES.end_session}/success`,
  `${PROVIDER_ROUTES.registration}/:clientId`,
]);

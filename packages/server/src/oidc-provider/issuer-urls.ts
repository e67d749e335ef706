import type Provider from 'oidc-provider';

/**
 * Makes every URL oidc-provider builds while answering a request come from the issuer: the
 * endpoints in discovery, `verification_uri` of device authorization, `registration_client_uri`,
 * the resume URL interactions return to, the form actions of its pages and the `htu` a DPoP
 * proof must name. The library builds them from the request (`ctx.href`: the Host header,
 * X-Forwarded-Host behind a trusted proxy, or an absolute-form request target), so that
 * `Host: evil.example` would publish `http://evil.example/token` to whoever asks, and to every
 * cache in between. OIDC Discovery §4.3: the issuer is what clients check; everything the
 * server tells them must be under it.
 *
 * The context class is created per provider instance, so this changes this instance only.
 *
 * @example
 * const provider = new Provider(issuer, configuration);
 * buildUrlsFromIssuer(provider);
 */
export function buildUrlsFromIssuer(provider: Provider): void {
  provider.OIDCContext.prototype.urlFor = function urlFromIssuer(name, options) {
    return provider.urlFor(name, options);
  };
}

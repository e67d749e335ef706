import type { JWK } from 'jose';
import type Koa from 'koa';
import compose from 'koa-compose';
import Provider from 'oidc-provider';
import { trustedProxySettings } from '../security/trusted-proxy.ts';
import type { ReplayGuard } from '../store/replay-guard.ts';
import { stateOf } from '../tokens/token-policies.ts';
import { buildProviderConfiguration, type ProviderDeps } from './configuration.ts';
import { withholdCorsFromUnknownClients } from './cors-policy.ts';
import { buildUrlsFromIssuer } from './issuer-urls.ts';
import { detectReplayAtomically, rememberProviderErrors } from './oidc-provider-quirks.ts';

/** The signing keys as the provider must see them at one moment. */
export interface ActiveKeys {
  /** Private JWKs, signing keys (the main key, then the RS256 key) first. */
  readonly jwks: readonly JWK[];
  /** Algorithm of the main key, which signs access tokens. */
  readonly signingAlg: 'ES256' | 'EdDSA';
  /** Changes whenever the set or the signing key changes. */
  readonly version: string;
}

export type HostDeps = Omit<ProviderDeps, 'jwks' | 'signingAlg' | 'skipRotation'> & {
  /** Where proofs already seen are claimed (the store's, shared by every instance on Redis). */
  readonly replay: ReplayGuard;
};

/**
 * Holds the running oidc-provider instance. oidc-provider takes its keys at construction, so
 * a key rotation builds a new instance and swaps it in; requests in flight finish on the old one.
 */
export class ProviderHost {
  #provider!: Provider;
  #middleware!: Koa.Middleware;
  #version = '';
  readonly #deps: HostDeps;
  readonly #onCreate: (provider: Provider) => void;

  constructor(deps: HostDeps, keys: ActiveKeys, onCreate: (provider: Provider) => void = () => {}) {
    this.#deps = deps;
    this.#onCreate = onCreate;
    this.update(keys);
  }

  get provider(): Provider {
    return this.#provider;
  }

  get keysVersion(): string {
    return this.#version;
  }

  /** Public halves of the published keys (what /jwks serves). */
  publicJwks(): { keys: JWK[] } {
    return { keys: this.#publicKeys };
  }

  #publicKeys: JWK[] = [];

  /** Rebuilds the provider when the key set changed. */
  update(keys: ActiveKeys): void {
    if (keys.version === this.#version) return;
    const { replay, ...deps } = this.#deps;
    const provider = new Provider(
      this.#deps.config.issuer,
      buildProviderConfiguration({
        ...deps,
        jwks: keys.jwks,
        signingAlg: keys.signingAlg,
        skipRotation: (ctx) => stateOf(ctx).reuseSuccessor === true,
      }),
    );
    // Its middleware runs on the app's context (whose settings apply); kept equal for its own callback().
    Object.assign(provider, trustedProxySettings(this.#deps.config.trustedProxyHops));
    buildUrlsFromIssuer(provider);
    rememberProviderErrors(provider);
    detectReplayAtomically(provider, replay);
    this.#onCreate(provider);
    this.#provider = provider;
    this.#middleware = compose([
      withholdCorsFromUnknownClients,
      ...(provider.middleware as Koa.Middleware[]),
    ]);
    this.#publicKeys = keys.jwks.map(({ d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub }) => pub);
    this.#version = keys.version;
  }

  /** Koa middleware that hands the request to the current provider. */
  readonly middleware: Koa.Middleware = (ctx, next) => this.#middleware(ctx, next);
}

import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider from 'oidc-provider';
import type { Config } from '../config/config.ts';
import { buildProviderConfiguration } from '../oidc-provider/configuration.ts';
import { CliError } from './cli-error.ts';
import type { ClientMetadata } from './new-client-metadata.ts';

async function throwawayKey(alg: 'ES256' | 'EdDSA' | 'RS256'): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  return { ...(await exportJWK(privateKey)), alg, use: 'sig' };
}

/**
 * Runs oidc-provider's own client validation under the server's configuration, so a client the
 * CLI stores is one the server can load (the server checks GATEHOUSE_CLIENTS_FILE the same way).
 * Throwaway keys of every algorithm stand in for the real ones, which need the secret to read.
 *
 * @example
 * await checkWithProvider(config, newClientMetadata(input, now));
 */
export async function checkWithProvider(config: Config, metadata: ClientMetadata): Promise<void> {
  class NoStore {
    // Client.validate never reads the store; a provider needs an adapter to be built quietly.
    async upsert() {}
    async find() {
      return undefined;
    }
    async findByUid() {
      return undefined;
    }
    async findByUserCode() {
      return undefined;
    }
    async consume() {}
    async destroy() {}
    async revokeByGrantId() {}
  }
  const provider = new Provider(
    config.issuer,
    buildProviderConfiguration({
      config,
      adapter: NoStore,
      jwks: await Promise.all([throwawayKey('ES256'), throwawayKey('EdDSA'), throwawayKey('RS256')]),
      signingAlg: 'ES256',
      cookieKeys: ['unused-by-client-validation'],
      dpopNonceSecret: Buffer.alloc(32),
      staticClients: [],
      findAccount: async () => undefined,
      skipRotation: () => false,
    }),
  );
  try {
    await provider.Client.validate(metadata);
  } catch (err) {
    const detail = (err as { error_description?: unknown }).error_description;
    throw new CliError(
      `invalid client metadata: ${typeof detail === 'string' ? detail : (err as Error).message.split('\n')[0]}`,
    );
  }
}

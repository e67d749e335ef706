export { type Config, ConfigError, loadConfig, type ResourceServerConfig } from './config.ts';
export { createGatehouseServer, type GatehouseOptions, type GatehouseServer } from './server.ts';
export { REVOCATION_CHANNEL, REVOKED_SET, type RevocationEvent } from './store/index.ts';

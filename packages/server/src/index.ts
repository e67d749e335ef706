export { type Config, ConfigError, loadConfig, type ResourceServerConfig } from './config/config.ts';
export { DEMO_APP_URL, demoClients } from './dev/demo-clients.ts';
export { DEMO_EMAIL, seedDemoUser } from './dev/demo-user.ts';
export { createGatehouseServer, type GatehouseOptions, type GatehouseServer } from './server.ts';

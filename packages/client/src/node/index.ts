export * from '../index.ts';
export { inProcessLock } from '../refresh-lock.ts';
export {
  createGatehouseClient,
  type DeviceAuthorizationResponse,
  type DeviceSignInOptions,
  type DeviceUserCode,
  type GatehouseNodeClient,
} from './client.ts';
export { fileStorage } from './file-storage.ts';

export * from '../index.ts';
export { fileStorage } from './file-storage.ts';

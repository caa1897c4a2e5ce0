/** `@backend-api/sdk/offline/node`: the till's storage for Node (a JSON file, written atomically). */
export { fileStorage } from './file-storage.js';
export type { TillStorage } from './storage.js';

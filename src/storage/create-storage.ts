import type { Config } from '../config.js';
import { LocalStorage } from './local.js';
import type { Storage } from './storage.js';

// Apart from storage.ts, which the drivers import for its types and key rules: the factory
// imports the drivers, so keeping it there made an import cycle.

/** The storage named by the configuration: local disk by default, S3-compatible when set. */
export function createStorage(config: Config): Storage {
  return config.storage.driver === 's3'
    ? lazyS3Storage(config)
    : new LocalStorage(config.storage.localDir);
}

/**
 * The S3 driver, loaded on first use: the AWS SDK costs ~25 MB of memory, which a process
 * on the local driver never pays.
 */
function lazyS3Storage(config: Config): Storage {
  let loaded: Promise<Storage> | undefined;
  const driver = () =>
    (loaded ??= import('./s3.js').then(
      ({ S3Storage }) => new S3Storage(config.storage.s3, config.storage.tmpDir),
    ));
  return {
    driver: 's3',
    put: async (key, body, options) => (await driver()).put(key, body, options),
    get: async (key) => (await driver()).get(key),
    delete: async (key) => (await driver()).delete(key),
    close: async () => {
      if (loaded) await (await loaded).close?.();
    },
  };
}

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startRedisServer, type RedisServer } from './redis-server';

declare global {
  var __SSEHUB_REDIS__: RedisServer | undefined;
}

/**
 * Builds dist/ when stale (process-level tests run the real entry point), then uses REDIS_URL
 * when set, or starts a throwaway redis-server for the whole run.
 */
export default async function globalSetup(): Promise<void> {
  execFileSync(process.execPath, [join(__dirname, '..', '..', 'scripts', 'build-if-needed.js')], { stdio: 'inherit' });
  if (process.env.REDIS_URL) {
    process.env.TEST_REDIS_URL = process.env.REDIS_URL;
    return;
  }
  const server = await startRedisServer();
  globalThis.__SSEHUB_REDIS__ = server;
  process.env.TEST_REDIS_URL = server.url;
}

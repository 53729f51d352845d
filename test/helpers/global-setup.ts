import { startRedisServer, type RedisServer } from './redis-server';

declare global {
  var __SSEHUB_REDIS__: RedisServer | undefined;
}

/** Uses REDIS_URL when set; otherwise starts a throwaway redis-server for the whole run. */
export default async function globalSetup(): Promise<void> {
  if (process.env.REDIS_URL) {
    process.env.TEST_REDIS_URL = process.env.REDIS_URL;
    return;
  }
  const server = await startRedisServer();
  globalThis.__SSEHUB_REDIS__ = server;
  process.env.TEST_REDIS_URL = server.url;
}

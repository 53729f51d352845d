import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { readConfig, type Config } from '../../src/config';
import { startServer, type RunningServer } from '../../src/server';

export type BrokerKind = 'redis' | 'memory';

/** Both brokers, for suites that must hold for each (`describe.each(BROKERS)`). */
export const BROKERS: BrokerKind[] = ['redis', 'memory'];

/** A key prefix no other test uses, so tests share one Redis without flushing it. */
export function uniquePrefix(): string {
  return `ssehub-test:${randomBytes(6).toString('hex')}:`;
}

/** The throwaway Redis the jest global setup started; throws outside jest. */
export function testRedisUrl(): string {
  const url = process.env.TEST_REDIS_URL;
  if (!url) throw new Error('TEST_REDIS_URL is unset: run the tests through jest (globalSetup starts Redis)');
  return url;
}

/** A configuration for tests: port 0, a unique Redis prefix, quiet logs; `env` overrides. */
export function testConfig(broker: BrokerKind, env: Record<string, string> = {}): Config {
  return readConfig({
    PORT: '0',
    SESSION_KEYS: 'test-key',
    LOG_LEVEL: 'silent',
    REDIS_PREFIX: uniquePrefix(),
    ...(broker === 'redis' ? { REDIS_URL: testRedisUrl() } : {}),
    ...env,
  });
}

/** A server started by `startTestServer`: the running server plus the configuration it read. */
export type TestServer = RunningServer & { config: Config };

/** Starts a real server on a free port; stop it with `close()`. */
export async function startTestServer(broker: BrokerKind, env: Record<string, string> = {}): Promise<TestServer> {
  const config = testConfig(broker, env);
  const running = await startServer(config, pino({ level: config.logLevel }));
  return { ...running, config };
}

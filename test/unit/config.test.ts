import { readConfig } from '../../src/config';
import { ConfigError } from '../../src/errors';

function configError(env: Record<string, string>): ConfigError {
  try {
    readConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('readConfig', () => {
  it('applies the documented default of every variable', () => {
    const config = readConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      redisUrl: undefined,
      redisPrefix: 'ssehub:',
      historySize: 1000,
      heartbeatMs: 15_000,
      retryMs: 2000,
      maxEventBytes: 65_536,
      maxClients: 10_000,
      clientBufferBytes: 1_048_576,
      sessionKeysGenerated: true,
      publishToken: undefined,
      corsOrigins: [],
      production: false,
    });
    expect(config.sessionKeys).toHaveLength(1);
    expect(config.sessionKeys[0]!.length).toBeGreaterThanOrEqual(32);
  });

  it('makes a different random session key for each start when SESSION_KEYS is unset', () => {
    expect(readConfig({}).sessionKeys[0]).not.toBe(readConfig({}).sessionKeys[0]);
  });

  it('returns a frozen configuration', () => {
    const config = readConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.sessionKeys)).toBe(true);
    expect(Object.isFrozen(config.corsOrigins)).toBe(true);
  });

  it('treats an empty value as unset', () => {
    const config = readConfig({ PORT: '', HOST: '', REDIS_URL: '', HISTORY_SIZE: '', PUBLISH_TOKEN: '', CORS_ORIGINS: '' });
    expect(config).toMatchObject({ port: 3000, host: '127.0.0.1', redisUrl: undefined, historySize: 1000, publishToken: undefined, corsOrigins: [] });
  });

  it('reads valid values of every variable', () => {
    const config = readConfig({
      PORT: '0',
      HOST: '0.0.0.0',
      REDIS_URL: 'rediss://user:pw@redis.example:6380/2',
      REDIS_PREFIX: 'app1:',
      HISTORY_SIZE: '50',
      HEARTBEAT_MS: '500',
      RETRY_MS: '100',
      MAX_EVENT_BYTES: '1024',
      MAX_CLIENTS: '7',
      CLIENT_BUFFER_BYTES: '4096',
      SESSION_KEYS: 'new, old ,',
      PUBLISH_TOKEN: 's3cret',
      CORS_ORIGINS: 'https://a.example, http://localhost:8080',
    });
    expect(config).toMatchObject({
      port: 0,
      host: '0.0.0.0',
      redisUrl: 'rediss://user:pw@redis.example:6380/2',
      redisPrefix: 'app1:',
      historySize: 50,
      heartbeatMs: 500,
      retryMs: 100,
      maxEventBytes: 1024,
      maxClients: 7,
      clientBufferBytes: 4096,
      sessionKeys: ['new', 'old'],
      sessionKeysGenerated: false,
      publishToken: 's3cret',
      corsOrigins: ['https://a.example', 'http://localhost:8080'],
    });
  });

  it('accepts the edges of the port range', () => {
    expect(readConfig({ PORT: '0' }).port).toBe(0);
    expect(readConfig({ PORT: '65535' }).port).toBe(65_535);
    expect(readConfig({ PORT: ' 8080 ' }).port).toBe(8080);
  });

  it.each(['0.0.0.0', '::', '::1', '10.1.2.3', 'localhost', 'my-host.internal', 'Example.COM'])('accepts HOST=%j', (value) => {
    expect(readConfig({ HOST: value }).host).toBe(value);
  });

  it('accepts redis:// URLs', () => {
    expect(readConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).redisUrl).toBe('redis://127.0.0.1:6379');
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '-1'],
    ['PORT', '65536'],
    ['PORT', '1.5'],
    ['PORT', '3e3'],
    ['PORT', '0x50'],
    ['HISTORY_SIZE', '-1'],
    ['HISTORY_SIZE', '0'],
    ['HISTORY_SIZE', 'many'],
    ['HEARTBEAT_MS', 'soon'],
    ['HEARTBEAT_MS', '-100'],
    ['RETRY_MS', '0'],
    ['RETRY_MS', '2s'],
    ['MAX_EVENT_BYTES', '64k'],
    ['MAX_EVENT_BYTES', '-1'],
    ['MAX_CLIENTS', '-5'],
    ['MAX_CLIENTS', 'lots'],
    ['CLIENT_BUFFER_BYTES', '1MB'],
    ['CLIENT_BUFFER_BYTES', '-1'],
    ['HOST', 'bad host'],
    ['HOST', 'http://example.com'],
    ['HOST', 'host:3000'],
    ['HOST', '[::1]'],
    ['HOST', '-leading-dash'],
    ['REDIS_URL', 'not a url'],
    ['REDIS_URL', 'http://redis.example:6379'],
    ['REDIS_URL', 'localhost:6379'],
    ['REDIS_PREFIX', 'a{b}'],
    ['REDIS_PREFIX', 'with space'],
    ['CORS_ORIGINS', 'not-an-origin'],
    ['CORS_ORIGINS', 'https://a.example/path'],
    ['CORS_ORIGINS', 'https://ok.example,*'],
  ])('refuses %s=%j with one line naming the variable', (name, value) => {
    const error = configError({ [name]: value });
    expect(error.message).toContain(name);
    expect(error.message).not.toMatch(/[\r\n]/);
  });

  it('refuses to start in production without SESSION_KEYS, naming the variable', () => {
    const error = configError({ NODE_ENV: 'production' });
    expect(error.message).toMatch(/SESSION_KEYS/);
    expect(error.message).not.toMatch(/[\r\n]/);
    expect(configError({ NODE_ENV: 'production', SESSION_KEYS: ' , ' }).message).toMatch(/SESSION_KEYS/);
  });

  it('starts in production with SESSION_KEYS and does not generate keys', () => {
    const config = readConfig({ NODE_ENV: 'production', SESSION_KEYS: 'k1,k2' });
    expect(config.production).toBe(true);
    expect(config.sessionKeys).toEqual(['k1', 'k2']);
    expect(config.sessionKeysGenerated).toBe(false);
  });

  it('splits CORS_ORIGINS on commas, trimming spaces and skipping empty items', () => {
    expect(readConfig({ CORS_ORIGINS: ' https://a.example ,,https://b.example:8443, ' }).corsOrigins).toEqual([
      'https://a.example',
      'https://b.example:8443',
    ]);
  });

  it('does not read process.env', () => {
    const saved = process.env.PORT;
    process.env.PORT = 'abc';
    try {
      expect(readConfig({}).port).toBe(3000);
    } finally {
      if (saved === undefined) delete process.env.PORT;
      else process.env.PORT = saved;
    }
  });
});

describe('readConfig: history expiry and body deadline', () => {
  it('defaults HISTORY_TTL_S to 7 days and BODY_TIMEOUT_MS to 10 s', () => {
    expect(readConfig({})).toMatchObject({ historyTtlS: 604_800, bodyTimeoutMs: 10_000 });
  });

  it('reads HISTORY_TTL_S=0 as "never expire" and valid values of both', () => {
    expect(readConfig({ HISTORY_TTL_S: '0', BODY_TIMEOUT_MS: '250' })).toMatchObject({ historyTtlS: 0, bodyTimeoutMs: 250 });
    expect(readConfig({ HISTORY_TTL_S: '3600' }).historyTtlS).toBe(3600);
  });

  it.each([
    ['HISTORY_TTL_S', '-1'],
    ['HISTORY_TTL_S', '7d'],
    ['HISTORY_TTL_S', '1.5'],
    ['BODY_TIMEOUT_MS', '0'],
    ['BODY_TIMEOUT_MS', '10s'],
    ['BODY_TIMEOUT_MS', '-5'],
  ])('refuses %s=%j with one line naming the variable', (name, value) => {
    const error = configError({ [name]: value });
    expect(error.message).toContain(name);
    expect(error.message).not.toMatch(/[\r\n]/);
  });
});

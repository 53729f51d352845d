import { generateKeyPairSync } from 'node:crypto';
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

const SECRET = 'a-secret-of-exactly-32-bytes-ok!';

function publicPem(pair: { publicKey: { export(options: { type: 'spki'; format: 'pem' }): string | Buffer } }): string {
  return pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

describe('readConfig: access control variables', () => {
  it('defaults to no key, every channel public, tickets of 300 s', () => {
    const config = readConfig({});
    expect(config).toMatchObject({ jwtKey: undefined, jwtIssuer: undefined, jwtAudience: undefined, ticketTtlS: 300 });
    expect(config.publicChannels.sources).toEqual(['**']);
    expect(config.publicChannels.matches('any.channel.at.all')).toBe(true);
  });

  it('takes JWT_SECRET of at least 32 bytes as an HS256 key', () => {
    expect(SECRET).toHaveLength(32);
    expect(readConfig({ JWT_SECRET: SECRET }).jwtKey).toMatchObject({ algorithm: 'HS256', variable: 'JWT_SECRET' });
    // Bytes, not characters: 16 two-byte characters are 32 bytes.
    expect(readConfig({ JWT_SECRET: 'é'.repeat(16) }).jwtKey?.algorithm).toBe('HS256');
  });

  it.each([
    ['RS256', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
    ['ES256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' })],
    ['EdDSA', () => generateKeyPairSync('ed25519')],
    ['EdDSA', () => generateKeyPairSync('ed448')],
  ])('takes the algorithm %s from the type of JWT_PUBLIC_KEY', (algorithm, generate) => {
    const pem = publicPem(generate());
    expect(readConfig({ JWT_PUBLIC_KEY: pem }).jwtKey).toMatchObject({ algorithm, variable: 'JWT_PUBLIC_KEY' });
  });

  it('reads a PEM written on one line with \\n escapes, as env files often hold it', () => {
    const pem = publicPem(generateKeyPairSync('ed25519')).trim().replace(/\n/g, '\\n');
    expect(readConfig({ JWT_PUBLIC_KEY: pem }).jwtKey?.algorithm).toBe('EdDSA');
  });

  it('reads PUBLIC_CHANNELS as a list of patterns; an empty value makes every channel private', () => {
    const listed = readConfig({ JWT_SECRET: SECRET, PUBLIC_CHANNELS: ' chat , news.* ,' }).publicChannels;
    expect(listed.sources).toEqual(['chat', 'news.*']);
    expect(['chat', 'news.eu', 'news', 'orders.eu'].map((channel) => listed.matches(channel))).toEqual([true, true, false, false]);
    const empty = readConfig({ JWT_SECRET: SECRET, PUBLIC_CHANNELS: '' }).publicChannels;
    expect(empty.sources).toEqual([]);
    expect(empty.matches('chat')).toBe(false);
  });

  it('never lets {sub} in PUBLIC_CHANNELS match (the environment has no token)', () => {
    const config = readConfig({ JWT_SECRET: SECRET, PUBLIC_CHANNELS: 'user.{sub}' });
    expect(config.publicChannels.matches('user.42')).toBe(false);
  });

  it('reads JWT_ISSUER, JWT_AUDIENCE and TICKET_TTL_S', () => {
    expect(readConfig({ JWT_SECRET: SECRET, JWT_ISSUER: 'https://auth.example', JWT_AUDIENCE: 'hub', TICKET_TTL_S: '60' })).toMatchObject({
      jwtIssuer: 'https://auth.example',
      jwtAudience: 'hub',
      ticketTtlS: 60,
    });
  });

  it.each<[name: string, env: Record<string, string>]>([
    ['JWT_SECRET', { JWT_SECRET: 'x'.repeat(31) }],
    ['JWT_SECRET', { JWT_SECRET: SECRET, JWT_PUBLIC_KEY: publicPem(generateKeyPairSync('ed25519')) }],
    ['JWT_PUBLIC_KEY', { JWT_PUBLIC_KEY: 'not a key' }],
    ['JWT_PUBLIC_KEY', { JWT_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n' }],
    ['JWT_PUBLIC_KEY', { JWT_PUBLIC_KEY: publicPem(generateKeyPairSync('rsa', { modulusLength: 1024 })) }],
    ['JWT_PUBLIC_KEY', { JWT_PUBLIC_KEY: publicPem(generateKeyPairSync('ec', { namedCurve: 'P-384' })) }],
    ['JWT_PUBLIC_KEY', { JWT_PUBLIC_KEY: publicPem(generateKeyPairSync('x25519')) }],
    ['JWT_PUBLIC_KEY', { JWT_PUBLIC_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }],
    ['PUBLIC_CHANNELS', { JWT_SECRET: SECRET, PUBLIC_CHANNELS: 'chat,orders.**.eu' }],
    ['PUBLIC_CHANNELS', { JWT_SECRET: SECRET, PUBLIC_CHANNELS: 'e*' }],
    ['PUBLIC_CHANNELS', { JWT_SECRET: SECRET, PUBLIC_CHANNELS: '{user}' }],
    ['PUBLIC_CHANNELS', { JWT_SECRET: SECRET, PUBLIC_CHANNELS: 'a..b' }],
    ['PUBLIC_CHANNELS', { JWT_SECRET: SECRET, PUBLIC_CHANNELS: 'a b' }],
    ['PUBLIC_CHANNELS', { PUBLIC_CHANNELS: 'chat' }],
    ['PUBLIC_CHANNELS', { PUBLIC_CHANNELS: '' }],
    ['JWT_ISSUER', { JWT_ISSUER: 'https://auth.example' }],
    ['JWT_AUDIENCE', { JWT_AUDIENCE: 'hub' }],
    ['TICKET_TTL_S', { TICKET_TTL_S: '0' }],
    ['TICKET_TTL_S', { TICKET_TTL_S: '5m' }],
    ['TICKET_TTL_S', { TICKET_TTL_S: '86401' }],
    ['AUTH_HOOK_URL', { AUTH_HOOK_URL: 'not a url' }],
    ['AUTH_HOOK_URL', { AUTH_HOOK_URL: 'ftp://auth.example/hook' }],
    ['AUTH_HOOK_URL', { AUTH_HOOK_URL: 'file:///etc/passwd' }],
    ['AUTH_HOOK_HEADERS', { AUTH_HOOK_URL: 'http://app/auth', AUTH_HOOK_HEADERS: 'cookie,x session' }],
    ['AUTH_HOOK_HEADERS', { AUTH_HOOK_URL: 'http://app/auth', AUTH_HOOK_HEADERS: 'cookie:' }],
    ['AUTH_HOOK_TIMEOUT_MS', { AUTH_HOOK_TIMEOUT_MS: '0' }],
    ['AUTH_HOOK_TIMEOUT_MS', { AUTH_HOOK_TIMEOUT_MS: '3s' }],
    ['AUTH_HOOK_TIMEOUT_MS', { AUTH_HOOK_TIMEOUT_MS: '60001' }],
    ['AUTH_HOOK_CACHE_S', { AUTH_HOOK_CACHE_S: '-1' }],
    ['AUTH_HOOK_CACHE_S', { AUTH_HOOK_CACHE_S: '86401' }],
  ])('refuses a bad %s with one line naming the variable and not echoing a key', (name, env) => {
    const error = configError(env);
    expect(error.message).toContain(name);
    expect(error.message).not.toMatch(/[\r\n]/);
    for (const variable of ['JWT_SECRET', 'JWT_PUBLIC_KEY']) {
      const value = env[variable];
      if (value !== undefined && value.length >= 24) expect(error.message).not.toContain(value.slice(value.length / 2, value.length / 2 + 12));
    }
  });

  it('defaults to no hook, forwarding the cookie, waiting 3000 ms and reusing answers for 30 s', () => {
    expect(readConfig({})).toMatchObject({ authHookUrl: undefined, authHookHeaders: ['cookie'], authHookTimeoutMs: 3000, authHookCacheS: 30 });
  });

  it('reads the AUTH_HOOK_* settings, header names in lower case, duplicates once', () => {
    const config = readConfig({ AUTH_HOOK_URL: 'https://app.example.com/ssehub/authorize', AUTH_HOOK_HEADERS: 'Cookie, X-Session ,cookie', AUTH_HOOK_TIMEOUT_MS: '250', AUTH_HOOK_CACHE_S: '0' });
    expect(config).toMatchObject({ authHookUrl: 'https://app.example.com/ssehub/authorize', authHookHeaders: ['cookie', 'x-session'], authHookTimeoutMs: 250, authHookCacheS: 0 });
  });

  it('accepts PUBLIC_CHANNELS other than ** with a hook and no key: the hook protects the rest', () => {
    const config = readConfig({ AUTH_HOOK_URL: 'http://127.0.0.1:8080/auth', PUBLIC_CHANNELS: 'chat' });
    expect(config.jwtKey).toBeUndefined();
    expect(config.publicChannels.matches('chat')).toBe(true);
    expect(config.publicChannels.matches('orders')).toBe(false);
  });

  it('refuses PUBLIC_CHANNELS other than ** without a key or a hook, naming both ways out', () => {
    expect(configError({ PUBLIC_CHANNELS: 'chat' }).message).toMatch(/JWT_SECRET.*AUTH_HOOK_URL/);
  });

  it('accepts PUBLIC_CHANNELS=** without a key (it says what is true anyway)', () => {
    expect(readConfig({ PUBLIC_CHANNELS: '**' }).publicChannels.matches('x')).toBe(true);
  });
});

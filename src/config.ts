import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { publicKey, secretKey, JwtKeyError, type JwtKey } from './access/jwt-key';
import { PatternError, PatternList } from './access/patterns';
import { ConfigError } from './errors';

/** A host and port of a Redis Sentinel or Cluster node. */
export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

/** Every setting of the server, validated once at start. See the README's configuration table. */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly redisUrl: string | undefined;
  readonly redisSentinels: readonly RedisNode[];
  readonly redisSentinelName: string | undefined;
  readonly redisClusterNodes: readonly RedisNode[];
  readonly redisPrefix: string;
  readonly historySize: number;
  readonly heartbeatMs: number;
  readonly retryMs: number;
  readonly maxEventBytes: number;
  readonly maxClients: number;
  readonly clientBufferBytes: number;
  /** Most channels one `GET /streams` may name. */
  readonly maxStreamChannels: number;
  readonly sessionKeys: readonly string[];
  /** True when SESSION_KEYS was unset and random keys were made (sessions die with the process). */
  readonly sessionKeysGenerated: boolean;
  readonly publishToken: string | undefined;
  readonly corsOrigins: readonly string[];
  readonly trustProxy: boolean;
  readonly production: boolean;
  readonly logLevel: string;
  readonly workers: number;
  /** A channel's history and id counter are deleted this long after its last publish; 0 = never. */
  readonly historyTtlS: number;
  /** A request body must arrive completely within this long, else 408 `request_timeout`. */
  readonly bodyTimeoutMs: number;
  /** Channels anyone may read (PUBLIC_CHANNELS, default `**`); matters only with a JWT key. */
  readonly publicChannels: PatternList;
  /** CHANNELS_CONFIG: the namespaces file (JSON or YAML), loaded once at start; undefined = none. */
  readonly channelsConfig: string | undefined;
  /** The access tokens' key (JWT_SECRET or JWT_PUBLIC_KEY); undefined = no access control. */
  readonly jwtKey: JwtKey | undefined;
  readonly jwtIssuer: string | undefined;
  readonly jwtAudience: string | undefined;
  readonly ticketTtlS: number;
  /** TICKETS_PER_MINUTE: tickets one `sub` (or one sub-less token) may get per minute, all instances together. */
  readonly ticketsPerMinute: number;
  /** HISTORY_PAGE_BYTES: most bytes of event JSON one history read returns (always at least one event). */
  readonly historyPageBytes: number;
  /** PRESENCE_CHANNELS: channels whose subscribers are tracked (`chat` always is). */
  readonly presenceChannels: PatternList;
  /** AUTH_HOOK_URL: the application's endpoint that authorizes reads carrying no token; undefined = none. */
  readonly authHookUrl: string | undefined;
  /** AUTH_HOOK_HEADERS: the request headers forwarded to the hook, lower-case (default `cookie`). */
  readonly authHookHeaders: readonly string[];
  /** AUTH_HOOK_TIMEOUT_MS: the longest wait for the hook's answer. */
  readonly authHookTimeoutMs: number;
  /** AUTH_HOOK_CACHE_S: how long a hook's answer is reused (never past its expiresAt); 0 = not reused. */
  readonly authHookCacheS: number;
  /** PRESENCE_REFRESH_MS: how often each process renews its presence entries; they expire after 3 times this. */
  readonly presenceRefreshMs: number;
  /** ADMIN_TOKEN: the bearer of `/api/*` and `/admin` (at least 16 characters); undefined = both answer 404. */
  readonly adminToken: string | undefined;
  /** REVOCATION_TTL_S: how long a revocation is kept. */
  readonly revocationTtlS: number;
}

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function fail(name: string, value: string, expected: string): never {
  throw new ConfigError(`${name}=${JSON.stringify(value)} is invalid: expected ${expected}`);
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  if (!/^[0-9]+$/.test(value.trim())) fail(name, value, `an integer from ${min} to ${max}`);
  const parsed = Number(value.trim());
  if (parsed < min || parsed > max) fail(name, value, `an integer from ${min} to ${max}`);
  return parsed;
}

function list(env: Env, name: string): string[] {
  return (env[name] ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function presenceChannels(env: Env): PatternList {
  try {
    return PatternList.compile(list(env, 'PRESENCE_CHANNELS'));
  } catch (error) {
    if (error instanceof PatternError) throw new ConfigError(`PRESENCE_CHANNELS: ${error.message}`);
    throw error;
  }
}

function redisNodes(env: Env, name: string): RedisNode[] {
  return list(env, name).map((item) => {
    const match = /^([^:\s]+):([0-9]{1,5})$/.exec(item);
    const port = Number(match?.[2]);
    if (!match?.[1] || port < 1 || port > 65535) fail(name, env[name] ?? '', 'a comma-separated host:port list');
    return { host: match[1], port };
  });
}

// RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens.
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function host(env: Env): string {
  const value = env.HOST || '127.0.0.1';
  if (isIP(value) === 0 && !HOST_NAME.test(value)) fail('HOST', value, 'an IP address or a host name');
  return value;
}

function redisUrl(env: Env): string | undefined {
  const value = env.REDIS_URL;
  if (value === undefined || value === '') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    fail('REDIS_URL', value, 'a redis:// or rediss:// URL');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') fail('REDIS_URL', value, 'a redis:// or rediss:// URL');
  return value;
}

function origins(env: Env): string[] {
  return list(env, 'CORS_ORIGINS').map((origin) => {
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    if (!url || url.origin !== origin) fail('CORS_ORIGINS', origin, 'origins such as https://app.example.com (scheme, host, optional port; no path)');
    return origin;
  });
}

function sessionKeys(env: Env, production: boolean): { keys: string[]; generated: boolean } {
  const keys = list(env, 'SESSION_KEYS');
  if (keys.length > 0) return { keys, generated: false };
  if (production) throw new ConfigError('SESSION_KEYS is required when NODE_ENV=production (comma-separated cookie-signing keys)');
  return { keys: [randomBytes(32).toString('base64url')], generated: true };
}

function jwtKey(env: Env): JwtKey | undefined {
  const secret = env.JWT_SECRET || undefined;
  const pem = env.JWT_PUBLIC_KEY || undefined;
  if (secret !== undefined && pem !== undefined) throw new ConfigError('JWT_SECRET and JWT_PUBLIC_KEY are both set: give one key only');
  try {
    if (secret !== undefined) return secretKey(secret);
    return pem === undefined ? undefined : publicKey(pem);
  } catch (error) {
    if (error instanceof JwtKeyError) throw new ConfigError(error.message);
    throw error;
  }
}

// Unlike other lists, an empty PUBLIC_CHANNELS means something: no channel is public.
function publicChannels(env: Env, protectable: boolean): PatternList {
  const value = env.PUBLIC_CHANNELS;
  if (value === undefined) return PatternList.compile(['**']);
  // Without a key or a hook every channel is public; a narrower list would only look like protection.
  if (!protectable && value.trim() !== '**') {
    throw new ConfigError('PUBLIC_CHANNELS needs JWT_SECRET, JWT_PUBLIC_KEY or AUTH_HOOK_URL: without a key or a hook every channel is public');
  }
  try {
    return PatternList.compile(list(env, 'PUBLIC_CHANNELS'));
  } catch (error) {
    if (error instanceof PatternError) throw new ConfigError(`PUBLIC_CHANNELS: ${error.message}`);
    throw error;
  }
}

function authHookUrl(env: Env): string | undefined {
  const value = env.AUTH_HOOK_URL;
  if (value === undefined || value === '') return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) fail('AUTH_HOOK_URL', value, 'an http:// or https:// URL');
  return value;
}

// RFC 9110 field names: one or more token characters.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function authHookHeaders(env: Env): string[] {
  if (env.AUTH_HOOK_HEADERS === undefined) return ['cookie'];
  const names = list(env, 'AUTH_HOOK_HEADERS');
  for (const name of names) if (!HEADER_NAME.test(name)) fail('AUTH_HOOK_HEADERS', env.AUTH_HOOK_HEADERS, 'comma-separated header names such as cookie,x-session');
  return [...new Set(names.map((name) => name.toLowerCase()))];
}

function keyedOnly(env: Env, name: string, keyed: boolean): string | undefined {
  const value = env[name] || undefined;
  if (value !== undefined && !keyed) throw new ConfigError(`${name} needs JWT_SECRET or JWT_PUBLIC_KEY: there are no tokens to check it on`);
  return value;
}

const MIN_ADMIN_TOKEN_CHARS = 16;

function adminToken(env: Env): string | undefined {
  const value = env.ADMIN_TOKEN;
  if (value === undefined || value === '') return undefined;
  // A short token could be guessed by anyone who can reach /api/*.
  if (value.length < MIN_ADMIN_TOKEN_CHARS || /\s/.test(value)) fail('ADMIN_TOKEN', '…', `at least ${MIN_ADMIN_TOKEN_CHARS} characters without spaces`);
  return value;
}

/**
 * Reads and validates the configuration from `env` (the only reader of process.env).
 * Throws ConfigError with one line naming the variable when a value is malformed.
 */
export function readConfig(env: Env): Config {
  const production = env.NODE_ENV === 'production';
  const redisPrefix = env.REDIS_PREFIX ?? 'ssehub:';
  // Keys use `{channel}` as a Cluster hash tag; a brace in the prefix would become the tag instead.
  if (/[{}\s]/.test(redisPrefix)) fail('REDIS_PREFIX', redisPrefix, 'no braces or whitespace');
  const logLevel = env.LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) fail('LOG_LEVEL', logLevel, LOG_LEVELS.join(', '));
  const keys = sessionKeys(env, production);
  const redisSentinels = redisNodes(env, 'REDIS_SENTINELS');
  const redisSentinelName = env.REDIS_SENTINEL_NAME || undefined;
  if (redisSentinels.length > 0 && !redisSentinelName) {
    throw new ConfigError('REDIS_SENTINEL_NAME is required with REDIS_SENTINELS (the monitored master name)');
  }
  const trustProxy = env.TRUST_PROXY ?? 'false';
  if (trustProxy !== 'true' && trustProxy !== 'false') fail('TRUST_PROXY', trustProxy, 'true or false');

  const key = jwtKey(env);
  const hookUrl = authHookUrl(env);

  return Object.freeze({
    port: integer(env, 'PORT', 3000, 0, 65535),
    host: host(env),
    redisUrl: redisUrl(env),
    redisSentinels,
    redisSentinelName,
    redisClusterNodes: redisNodes(env, 'REDIS_CLUSTER_NODES'),
    redisPrefix,
    historySize: integer(env, 'HISTORY_SIZE', 1000, 1, 1_000_000),
    heartbeatMs: integer(env, 'HEARTBEAT_MS', 15_000, 10, 3_600_000),
    retryMs: integer(env, 'RETRY_MS', 2000, 1, 3_600_000),
    maxEventBytes: integer(env, 'MAX_EVENT_BYTES', 65_536, 16, 64 * 1024 * 1024),
    maxClients: integer(env, 'MAX_CLIENTS', 10_000, 0, 10_000_000),
    clientBufferBytes: integer(env, 'CLIENT_BUFFER_BYTES', 1_048_576, 1024, 1024 * 1024 * 1024),
    maxStreamChannels: integer(env, 'MAX_STREAM_CHANNELS', 16, 1, 64),
    sessionKeys: Object.freeze(keys.keys),
    sessionKeysGenerated: keys.generated,
    publishToken: env.PUBLISH_TOKEN || undefined,
    corsOrigins: Object.freeze(origins(env)),
    trustProxy: trustProxy === 'true',
    production,
    logLevel,
    workers: integer(env, 'WORKERS', 1, 1, 256),
    historyTtlS: integer(env, 'HISTORY_TTL_S', 604_800, 0, 10 * 365 * 86_400),
    bodyTimeoutMs: integer(env, 'BODY_TIMEOUT_MS', 10_000, 1, 3_600_000),
    publicChannels: publicChannels(env, key !== undefined || hookUrl !== undefined),
    channelsConfig: env.CHANNELS_CONFIG || undefined,
    jwtKey: key,
    jwtIssuer: keyedOnly(env, 'JWT_ISSUER', key !== undefined),
    jwtAudience: keyedOnly(env, 'JWT_AUDIENCE', key !== undefined),
    ticketTtlS: integer(env, 'TICKET_TTL_S', 300, 1, 86_400),
    ticketsPerMinute: integer(env, 'TICKETS_PER_MINUTE', 60, 1, 1_000_000),
    historyPageBytes: integer(env, 'HISTORY_PAGE_BYTES', 1_048_576, 1024, 1024 * 1024 * 1024),
    presenceChannels: presenceChannels(env),
    authHookUrl: hookUrl,
    authHookHeaders: Object.freeze(authHookHeaders(env)),
    authHookTimeoutMs: integer(env, 'AUTH_HOOK_TIMEOUT_MS', 3000, 1, 60_000),
    authHookCacheS: integer(env, 'AUTH_HOOK_CACHE_S', 30, 0, 86_400),
    // At most 15 s: a dead process's entries expire after 3 ticks (45 s) and a survivor's next
    // tick announces the leave, so it is out within the 60 s API.md promises.
    presenceRefreshMs: integer(env, 'PRESENCE_REFRESH_MS', 15_000, 50, 15_000),
    adminToken: adminToken(env),
    revocationTtlS: integer(env, 'REVOCATION_TTL_S', 2_592_000, 1, 10 * 365 * 86_400),
  });
}

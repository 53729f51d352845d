import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { startRedisServer } from '../helpers/redis-server';
import { SseClient } from '../helpers/sse-client';
import { testRedisUrl, uniquePrefix } from '../helpers/test-server';

const ROOT = join(__dirname, '..', '..');
const ENTRY = join(ROOT, 'dist', 'server.js');

interface LogLine {
  level?: number;
  msg?: string;
  address?: string;
  broker?: string;
  historySize?: number;
}

/** The built server (`node dist/server.js`) as a child process, with its output collected. */
class ServerProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: Array<() => void> = [];

  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      this.stdout += chunk;
      this.notify();
    });
    child.stderr?.on('data', (chunk: string) => {
      this.stderr += chunk;
      this.notify();
    });
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Starts it with exactly `env` (plus PATH), never the test process's own environment. */
  static start(env: Record<string, string>): ServerProcess {
    return new ServerProcess(
      spawn(process.execPath, [ENTRY], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] }),
    );
  }

  get logLines(): LogLine[] {
    return this.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine);
  }

  /** Resolves with the first JSON log line matching `predicate`. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> {
    const find = () => this.logLines.find(predicate);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        reject(new Error(`no such log line; stdout: ${this.stdout} stderr: ${this.stderr}`));
      }, timeoutMs);
      const check = (): void => {
        const line = find();
        if (!line) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        resolve(line);
      };
      this.waiters.push(check);
      check();
    });
  }

  /** Waits for the start-up line that carries the bound address. */
  async listening(): Promise<string> {
    const line = await this.waitForLog((log) => typeof log.address === 'string');
    return line.address!;
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

const started: ServerProcess[] = [];
function start(env: Record<string, string>): ServerProcess {
  const server = ServerProcess.start(env);
  started.push(server);
  return server;
}

afterAll(() => {
  for (const server of started.splice(0)) server.kill();
});

/** Opens a stream, sends `signal`, and checks that the stream ends and the process exits 0 within 5 s. */
async function expectGracefulExit(server: ServerProcess, address: string, signal: NodeJS.Signals): Promise<void> {
  const client = await SseClient.open(`${address}/channels/shutdown/stream`);
  await client.waitFor((sse) => sse.retries.length > 0);
  const signalledAt = Date.now();
  server.child.kill(signal);
  await client.waitForEnd(5000);
  const { code } = await server.exited;
  expect(code).toBe(0);
  expect(Date.now() - signalledAt).toBeLessThan(5000);
  await expect(fetch(`${address}/healthz`)).rejects.toThrow();
}

describe('a refused start of the built server', () => {

  // Every variable's validation is covered by test/unit/config.test.ts; this proves how a refused
  // start looks. The processes run in parallel: each start costs a Node boot.
  it('refuses malformed values and production without SESSION_KEYS: exit 1, one stderr line naming the variable, no stack trace', async () => {
    const rows: Array<[variable: string, env: Record<string, string>]> = [
      ['PORT', { PORT: 'abc' }],
      ['HISTORY_SIZE', { HISTORY_SIZE: '-1' }],
      ['HOST', { HOST: 'http://example.com' }],
      ['MAX_EVENT_BYTES', { MAX_EVENT_BYTES: '64kb' }],
      ['REDIS_URL', { REDIS_URL: 'http://127.0.0.1:6379' }],
      ['CORS_ORIGINS', { CORS_ORIGINS: 'not an origin' }],
      ['SESSION_KEYS', { NODE_ENV: 'production' }],
      ['JWT_SECRET', { JWT_SECRET: 'too-short' }],
      ['JWT_PUBLIC_KEY', { JWT_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----' }],
      ['PUBLIC_CHANNELS', { JWT_SECRET: 'a-secret-of-exactly-32-bytes-ok!', PUBLIC_CHANNELS: 'chat,rooms.**.x' }],
    ];
    const outcomes = await Promise.all(
      rows.map(async ([variable, env]) => {
        const server = start({ PORT: '0', ...env });
        const { code } = await server.exited;
        const lines = server.stderr.trimEnd().split('\n');
        return {
          variable,
          code,
          stderrLines: lines.length,
          namesVariable: lines[0]?.includes(variable) ?? false,
          stackTrace: /^\s+at /m.test(server.stderr),
          listened: server.logLines.some((line) => line.address !== undefined),
        };
      }),
    );
    expect(outcomes).toEqual(
      rows.map(([variable]) => ({ variable, code: 1, stderrLines: 1, namesVariable: true, stackTrace: false, listened: false })),
    );
  });

  it('refuses a port that is already in use: exit 1 with one line and no stack trace', async () => {
    const first = start({ PORT: '0', SESSION_KEYS: 'k' });
    const port = new URL(await first.listening()).port;
    const second = start({ PORT: port, SESSION_KEYS: 'k' });
    const { code } = await second.exited;
    expect(code).toBe(1);
    const lines = second.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/EADDRINUSE|in use/);
    expect(second.stderr).not.toMatch(/^\s+at /m);
    first.kill();
  });

  it('refuses wrong Redis credentials at once: exit 1 with one line naming REDIS_URL and no stack trace', async () => {
    const redis = await startRedisServer(['--requirepass', 'right']);
    try {
      const url = new URL(redis.url);
      url.password = 'pw-not-right-7f3a';
      const server = start({ PORT: '0', SESSION_KEYS: 'k', REDIS_URL: url.toString() });
      const { code } = await server.exited;
      expect(code).toBe(1);
      const lines = server.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/REDIS_URL/);
      expect(lines[0]).not.toContain('pw-not-right-7f3a');
      expect(server.stderr).not.toMatch(/^\s+at /m);
    } finally {
      await redis.stop();
    }
  });

});

describe('the built server started with PORT=0, without REDIS_URL, in production with SESSION_KEYS', () => {
  let server: ServerProcess;
  let address: string;

  beforeAll(async () => {
    server = start({ PORT: '0', HISTORY_SIZE: '77', NODE_ENV: 'production', SESSION_KEYS: 'prod-key' });
    address = await server.listening();
  });

  it('logs one start line with the bound address, the broker and the history size', () => {
    expect(address).toMatch(/^http:\/\/127\.0\.0\.1:[0-9]+$/);
    expect(Number(new URL(address).port)).toBeGreaterThan(0);
    const startLines = server.logLines.filter((line) => line.address !== undefined);
    expect(startLines).toHaveLength(1);
    expect(startLines[0]!.historySize).toBe(77);
    expect(startLines[0]!.broker).toMatch(/in-process/);
  });

  it('warns that REDIS_URL is unset and the in-process broker is used', async () => {
    const warning = await server.waitForLog((line) => line.level === 40 && /REDIS_URL/.test(line.msg ?? ''));
    expect(warning.msg).toMatch(/in-process/);
  });

  it('does not warn about SESSION_KEYS when they are set', () => {
    expect(server.logLines.some((line) => /SESSION_KEYS/.test(line.msg ?? ''))).toBe(false);
  });

  it('serves at the logged address', async () => {
    expect((await fetch(`${address}/healthz`)).status).toBe(200);
  });

  it('on SIGTERM ends open streams and exits 0 within 5 seconds', async () => {
    await expectGracefulExit(server, address, 'SIGTERM');
  });
});

describe('the built server started with REDIS_URL and without SESSION_KEYS', () => {
  let server: ServerProcess;
  let address: string;

  beforeAll(async () => {
    server = start({ PORT: '0', REDIS_URL: testRedisUrl(), REDIS_PREFIX: uniquePrefix() });
    address = await server.listening();
  });

  it('logs Redis as its broker, without the in-process warning, and is ready', async () => {
    const startLine = server.logLines.find((line) => line.address === address)!;
    expect(startLine.broker).toMatch(/Redis/);
    expect(server.logLines.some((line) => /in-process/.test(line.msg ?? '') && line.level === 40)).toBe(false);
    expect((await fetch(`${address}/readyz`)).status).toBe(200);
  });

  it('warns that SESSION_KEYS is unset', async () => {
    const warning = await server.waitForLog((line) => line.level === 40 && /SESSION_KEYS/.test(line.msg ?? ''));
    expect(warning.msg).toMatch(/random/);
  });

  it('on SIGINT ends open streams and exits 0 within 5 seconds', async () => {
    await expectGracefulExit(server, address, 'SIGINT');
  });
});

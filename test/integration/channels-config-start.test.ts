import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { writeChannelsConfig } from '../helpers/channels-config';

const ROOT = join(__dirname, '..', '..');
const ENTRY = join(ROOT, 'dist', 'server.js');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the built server (`node dist/server.js`) with exactly `env`; stops it once its start-up
 * line is out (or lets it exit by itself) and resolves with what it wrote.
 */
function run(env: Record<string, string>): Promise<Run> {
  const child = spawn(process.execPath, [ENTRY], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', PORT: '0', SESSION_KEYS: 'k', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (stdout.includes('ssehub listening on')) child.kill('SIGTERM');
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

function fingerprintOf(result: Run): unknown {
  const line = result.stdout.split('\n').find((text) => text.includes('ssehub listening on'));
  return line === undefined ? undefined : (JSON.parse(line) as { channelsFingerprint?: unknown }).channelsFingerprint;
}

describe('CHANNELS_CONFIG when the server starts', () => {
  it('stops the start with one line naming CHANNELS_CONFIG and the place of the error', async () => {
    const path = writeChannelsConfig({ namespaces: [{ pattern: 'a.*', history: -1 }] });
    const result = await run({ CHANNELS_CONFIG: path });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^ssehub: .*CHANNELS_CONFIG=.*namespaces\[0\]\.history/);
  });

  it('logs the fingerprint in the start-up line: equal files equal prints, different files different prints', async () => {
    const one = writeChannelsConfig({ namespaces: [{ pattern: 'a.*', history: 5 }] });
    const same = writeChannelsConfig({ namespaces: [{ pattern: 'a.*', history: 5 }] });
    const other = writeChannelsConfig({ namespaces: [{ pattern: 'a.*', history: 6 }] });
    const results = await Promise.all([one, same, other].map((path) => run({ CHANNELS_CONFIG: path })));
    const [first, second, third] = results.map(fingerprintOf);
    expect(first).toMatch(/^[0-9a-f]{12}$/);
    expect(second).toBe(first);
    expect(third).toMatch(/^[0-9a-f]{12}$/);
    expect(third).not.toBe(first);
    expect(results[0]?.stdout).toContain(`CHANNELS_CONFIG fingerprint ${String(first)}`);
  });
});

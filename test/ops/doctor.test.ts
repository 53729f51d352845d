import { runDoctorCommand } from '../../src/cli/doctor';
import type { CheckResult } from '../../src/doctor/judge';
import { startTestServer } from '../helpers/test-server';
import { bufferingProxy, gzipProxy, idleCuttingProxy, lastEventIdDroppingProxy } from './doctor-proxies';
import { startNginx, type NginxProxy } from './nginx-proxy';

type Server = Awaited<ReturnType<typeof startTestServer>>;

interface DoctorRun {
  readonly code: number;
  readonly checks: Record<string, CheckResult>;
}

/** `ssehub doctor <url> --json ...args`, in-process, as the command line runs it. */
async function doctor(url: string, ...args: string[]): Promise<DoctorRun> {
  let stdout = '';
  let stderr = '';
  const code = await runDoctorCommand([url, '--json', ...args], { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
  expect(stderr).toBe('');
  const report = JSON.parse(stdout) as { checks: CheckResult[]; failed: boolean };
  expect(report.failed).toBe(code === 1);
  return { code, checks: Object.fromEntries(report.checks.map((check) => [check.check, check])) };
}

function verdicts(run: DoctorRun): Record<string, string> {
  return Object.fromEntries(Object.values(run.checks).map((check) => [check.check, check.verdict]));
}

let hub: Server;
const proxies: NginxProxy[] = [];

async function nginx(variant?: (conf: string) => string, upstream: Server = hub): Promise<string> {
  const proxy = await startNginx([upstream.port, upstream.port], variant);
  proxies.push(proxy);
  return proxy.url;
}

beforeAll(async () => {
  hub = await startTestServer('memory', { CORS_ORIGINS: 'https://app.example' });
});

afterAll(async () => {
  await Promise.all(proxies.map((proxy) => proxy.stop()));
  await hub?.close();
});

describe('ssehub doctor through nginx', () => {
  it('passes every check through nginx configured by deploy/nginx.conf, and exits 0', async () => {
    const run = await doctor(await nginx(), '--origin', 'https://app.example', '--idle', '2');
    expect(verdicts(run)).toEqual({
      answer: 'PASS',
      compression: 'PASS',
      caching: 'PASS',
      buffering: 'PASS',
      'first byte': 'PASS',
      'Last-Event-ID': 'PASS',
      CORS: 'PASS',
      'idle stream': 'PASS',
    });
    expect(run.code).toBe(0);
  });

  it('fails buffering, with the nginx fix, when nginx buffers and ignores the hub\'s X-Accel-Buffering', async () => {
    const run = await doctor(await nginx(bufferingProxy));
    expect(run.checks.buffering?.verdict).toBe('FAIL');
    expect(run.checks.buffering?.fix).toContain('proxy_buffering off;');
    expect(run.checks.compression?.verdict).toBe('PASS');
    expect(run.code).toBe(1);
  });

  it('fails compression, with the fix, when nginx gzips event streams (and still reads the events)', async () => {
    const run = await doctor(await nginx(gzipProxy));
    expect(run.checks.compression).toMatchObject({ verdict: 'FAIL', saw: 'Content-Encoding: gzip' });
    expect(run.checks.compression?.fix).toContain('gzip off;');
    expect(run.checks['Last-Event-ID']?.verdict).toBe('PASS');
    expect(run.code).toBe(1);
  });

  it('fails Last-Event-ID when the proxy drops the header', async () => {
    const run = await doctor(await nginx(lastEventIdDroppingProxy));
    expect(run.checks['Last-Event-ID']?.verdict).toBe('FAIL');
    expect(run.checks['Last-Event-ID']?.saw).toMatch(/the hub received none$/);
    expect(run.checks.buffering?.verdict).toBe('PASS');
    expect(run.code).toBe(1);
  });

  it('fails the idle check when the proxy cuts streams idle for 5 s and the heartbeat is longer', async () => {
    const slowHeartbeat = await startTestServer('memory', { HEARTBEAT_MS: '60000' });
    try {
      const run = await doctor(await nginx(idleCuttingProxy, slowHeartbeat), '--idle', '8');
      expect(run.checks['idle stream']?.verdict).toBe('FAIL');
      expect(run.checks['idle stream']?.saw).toMatch(/^cut after [4-7]\.\d\d s of 8 s/);
      expect(run.checks['idle stream']?.fix).toContain('proxy_read_timeout');
      expect(run.code).toBe(1);
    } finally {
      await slowHeartbeat.close();
    }
  });
});

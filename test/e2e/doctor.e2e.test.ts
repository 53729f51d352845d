import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { bufferingProxy } from '../ops/doctor-proxies';
import { startNginx, type NginxProxy } from '../ops/nginx-proxy';

const ROOT = join(__dirname, '..', '..');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let browser: Browser;
let hub: TestServer;
let nginx: NginxProxy;
const problems: string[] = [];

beforeAll(async () => {
  // The page imports the judge as an ES module that the build emits; the hub reads it at start.
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.js'), '--doctor'], { cwd: ROOT, stdio: 'ignore' });
  hub = await startTestServer('memory');
  nginx = await startNginx([hub.port, hub.port], bufferingProxy);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await Promise.all([browser?.close(), nginx?.stop()]);
  await hub?.close();
});

afterEach(() => {
  // Uncaught page errors and CSP violations fail the test.
  expect(problems.splice(0)).toEqual([]);
});

/** The part of a verdict's list item that is read (the tests compile without lib.dom). */
interface VerdictItem {
  getAttribute(name: string): string | null;
}

/** Opens /doctor at `baseUrl` and resolves with each check's verdict once the page is done. */
async function runPage(baseUrl: string): Promise<{ page: Page; verdicts: Record<string, string> }> {
  const page = await browser.newPage();
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) problems.push(message.text());
  });
  await page.goto(`${baseUrl}/doctor`);
  await page.waitForSelector('body[data-state="done"]', { timeout: 20_000 });
  const entries = await page.$$eval('#verdicts li', (items: VerdictItem[]) =>
    items.map((item): [string, string] => [item.getAttribute('data-check') ?? '', item.getAttribute('data-verdict') ?? '']),
  );
  return { page, verdicts: Object.fromEntries(entries) };
}

describe('the /doctor page in Chromium', () => {
  it('passes every check against the hub itself', async () => {
    const { page, verdicts } = await runPage(hub.url);
    expect(verdicts).toEqual({
      answer: 'PASS',
      compression: 'PASS',
      caching: 'PASS',
      buffering: 'PASS',
      'first byte': 'PASS',
      'Last-Event-ID': 'PASS',
      EventSource: 'PASS',
    });
    expect(await page.textContent('[data-testid="summary"]')).toBe('All checks passed');
    await page.close();
  });

  it('fails buffering, and shows the fix, through an nginx that buffers the stream', async () => {
    const { page, verdicts } = await runPage(nginx.url);
    expect(verdicts.buffering).toBe('FAIL');
    expect(verdicts.compression).toBe('PASS');
    expect(await page.textContent('li[data-check="buffering"] .verdict-fix')).toContain('proxy_buffering off;');
    await page.close();
  });
});

import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { makeKey, signToken } from '../helpers/access-tokens';
import { ensureClientBuilt } from '../helpers/client-build';
import { OpenStreams, type SseClient } from '../helpers/sse-client';
import { startTestServer, type TestServer } from '../helpers/test-server';

type Server = TestServer;

const ADMIN_TOKEN = 'dashboard-token-0123456789abcdef';
const SCREENSHOT = join(__dirname, '..', '..', 'docs', 'admin.png');
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 375, height: 740 };

/** The part of the DOM the page functions read (the tests compile without lib.dom). */
interface PageDocument {
  readonly documentElement: { readonly scrollWidth: number };
  getElementById(id: string): { readonly dataset: Record<string, string | undefined> } | null;
}
type PageGlobal = { document: PageDocument };

let browser: Browser;
let server: Server;
const streams = new OpenStreams();
const key = makeKey('HS256');
const problems: string[] = [];

beforeAll(async () => {
  ensureClientBuilt();
  server = await startTestServer('memory', { ADMIN_TOKEN, ...key.env, PRESENCE_CHANNELS: 'room.*' });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
});

afterAll(async () => {
  streams.closeAll();
  await Promise.all([browser?.close(), server?.close()]);
});

async function openDashboard(viewport: { width: number; height: number }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) problems.push(message.text());
  });
  await page.goto(`${server.url}/admin`);
  return page;
}

async function signIn(page: Page): Promise<void> {
  await page.getByTestId('token-input').fill(ADMIN_TOKEN);
  await page.getByTestId('token-submit').click();
  await page.locator('[data-testid="feed-state"][data-state="connected"]').waitFor();
}

/** Waits until the connections total shows at least `count`. */
async function waitForConnections(page: Page, count: number): Promise<void> {
  await page.waitForFunction((min) => Number((globalThis as unknown as PageGlobal).document.getElementById('total-connections')?.dataset.value ?? '-1') >= min, count);
}

const member = async (sub: string, channel: string, name: string): Promise<SseClient> =>
  streams.open(`${server.url}/channels/${channel}/stream`, { Authorization: `Bearer ${await signToken(key, { info: { name } }, { sub })}` });

describe('the dashboard, in Chromium', () => {
  it('asks for the token, refuses a wrong one, and keeps the right one out of the URL', async () => {
    const page = await openDashboard(DESKTOP);
    await page.getByTestId('token-input').fill('not-the-admin-token-at-all');
    await page.getByTestId('token-submit').click();
    await page.getByTestId('gate-error').getByText('does not accept').waitFor();
    await signIn(page);
    expect(page.url()).toBe(`${server.url}/admin`);
    expect(await page.context().cookies()).toEqual([]);
    await page.context().close();
  });

  it('shows connections move, inspects a channel, publishes from the page, shows validation errors, disconnects a member', async () => {
    const page = await openDashboard(DESKTOP);
    await signIn(page);
    const alice = await member('alice', 'room.lobby', 'Alice');
    const bob = await member('bob', 'room.lobby', 'Bob');
    await waitForConnections(page, 2);

    await page.getByTestId('channel-row').filter({ hasText: 'room.lobby' }).click();
    await page.getByTestId('member').filter({ hasText: 'Alice (alice)' }).waitFor();
    await page.getByTestId('member').filter({ hasText: 'Bob (bob)' }).waitFor();
    await page.getByText('· live').waitFor();

    await page.getByTestId('publish-data').fill('{"text": "from the dashboard"}');
    await page.getByTestId('publish-submit').click();
    await page.getByTestId('event-row').filter({ hasText: 'from the dashboard' }).first().waitFor();
    await alice.waitFor((client) => client.messages.some((message) => message.data.includes('from the dashboard')));

    await page.getByTestId('publish-data').fill('{"text": ');
    await page.getByTestId('publish-submit').click();
    await page.getByTestId('publish-data-error').getByText('not valid JSON').waitFor();
    await page.getByTestId('publish-data').fill('1');
    await page.getByTestId('publish-event').fill('hub.fake');
    await page.getByTestId('publish-submit').click();
    await page.getByTestId('publish-event-error').getByText('reserved').waitFor();

    await page.getByTestId('member').filter({ hasText: 'Alice (alice)' }).getByTestId('disconnect-member').click();
    await alice.waitForEnd();
    expect(alice.messages.map((message) => message.event)).toContain('hub.disconnect');
    expect(bob.ended).toBe(false);
    await page.context().close();
  });

  it('stays readable at a phone width: no sideways scrolling', async () => {
    const page = await openDashboard(PHONE);
    await signIn(page);
    await page.getByTestId('inspect-channel').fill('room.lobby');
    await page.getByTestId('inspect-submit').click();
    await page.getByText('· live').waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobal).document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await page.screenshot({ path: join(__dirname, '..', '..', 'test-output', 'admin-phone.png'), fullPage: true });
    await page.context().close();
  });

  it('draws the last minutes with traffic, for docs/admin.png at 1280x800', async () => {
    const page = await openDashboard(DESKTOP);
    await signIn(page);
    for (const [channel, count] of [['orders.eu', 5], ['prices.btc', 4], ['room.lobby', 2], ['user.42.inbox', 1]] as const) {
      for (let index = 0; index < count; index++) await streams.open(`${server.url}/channels/${channel}/stream`);
    }
    await page.getByTestId('inspect-channel').fill('orders.eu');
    await page.getByTestId('inspect-submit').click();
    await page.getByText('· live').waitFor();
    // Traffic until the chart holds 8 reports (one a second), so the picture shows it moving.
    const charted = page.waitForFunction(() => Number((globalThis as unknown as PageGlobal).document.getElementById('chart')?.dataset.points ?? '0') >= 8, undefined, { timeout: 30_000 });
    let done = false;
    void charted.finally(() => (done = true));
    for (let sequence = 0; !done; sequence++) {
      const channels = sequence % 3 === 0 ? ['orders.eu', 'prices.btc'] : ['prices.btc'];
      await fetch(`${server.url}/api/broadcast`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ channels, event: 'tick', data: { sequence, price: 97_000 + (sequence % 40) * 13 } }),
      });
      // About 25 broadcasts a second: a steady line, not a load test.
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    await charted;
    await page.screenshot({ path: SCREENSHOT });
    expect(problems).toEqual([]);
    await page.context().close();
  });
});

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { ChatBrowser, PHONE, signIn, waitForState } from '../helpers/chat-browser';
import { TcpProxy } from '../helpers/tcp-proxy';
import { startTestServer, type TestServer } from '../helpers/test-server';

const OUTPUT_DIR = join(__dirname, '..', '..', 'test-output');

let browser: ChatBrowser;
let server: TestServer;

beforeAll(async () => {
  await mkdir(OUTPUT_DIR, { recursive: true });
  server = await startTestServer('redis', { RETRY_MS: '250' });
  browser = await ChatBrowser.launch();
});

afterEach(async () => {
  expect(await browser.closePages()).toEqual([]);
});

afterAll(async () => {
  await Promise.all([browser?.close(), server?.close()]);
});

/** Waits until the page's online list shows exactly `names`, in its order. */
async function waitForOnline(page: Page, names: readonly string[]): Promise<void> {
  await page.getByTestId('online-count').getByText(`${names.length} online`, { exact: true }).waitFor();
  await page.waitForFunction(
    (expected: string) =>
      [...(globalThis as unknown as { document: { querySelectorAll(selector: string): Iterable<{ dataset: { name?: string } }> } }).document.querySelectorAll('[data-testid="online-member"]')]
        .map((item) => item.dataset.name)
        .join('\n') === expected,
    names.join('\n'),
  );
}

async function openOnlineList(page: Page): Promise<void> {
  const toggle = page.getByTestId('online-toggle');
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
  await page.getByTestId('online-panel').waitFor();
}

describe('who is online, in the browser chat', () => {
  it('shows two people each other arriving and leaving, and announces it', async () => {
    const alice = await browser.openChat(server.url);
    await signIn(alice, 'Alice');
    await waitForOnline(alice, ['Alice']);
    await openOnlineList(alice);
    await expect(alice.getByTestId('online-member').getByText('(you)').count()).resolves.toBe(1);

    const bob = await browser.openChat(server.url);
    await signIn(bob, 'Bob');
    await waitForOnline(alice, ['Alice', 'Bob']);
    await waitForOnline(bob, ['Alice', 'Bob']);
    await alice.getByTestId('presence-announcer').getByText('Bob joined').waitFor();
    await alice.screenshot({ path: join(OUTPUT_DIR, 'chat-online.png') });

    await bob.close();
    await waitForOnline(alice, ['Alice']);
    await alice.getByTestId('presence-announcer').getByText('Bob left').waitFor();
  });

  it('renames in the list when a person changes name, and counts readers without a name apart', async () => {
    const carol = await browser.openChat(server.url);
    await signIn(carol, 'Carol');
    const reader = await browser.openChat(server.url);
    await waitForOnline(reader, ['Carol']);
    await openOnlineList(reader);
    await reader.getByTestId('online-anonymous').getByText('1 more reader without a name').waitFor();
    await carol.getByTestId('change-name').click();
    await signIn(carol, 'Caroline');
    await waitForOnline(reader, ['Caroline']);
    await waitForOnline(carol, ['Caroline']);
  });

  it('reloads the list after a reconnect, dropping whoever left meanwhile', async () => {
    const proxy = await TcpProxy.start(server.port);
    try {
      const dan = await browser.openChat(server.url);
      await signIn(dan, 'Dan');
      const erin = await browser.openChat(proxy.url);
      await signIn(erin, 'Erin');
      await waitForOnline(erin, ['Dan', 'Erin']);
      proxy.cut();
      await waitForState(erin, 'reconnecting');
      await dan.close();
      const frank = await browser.openChat(server.url);
      await signIn(frank, 'Frank');
      // Erin's stream was cut too, so she left as well; she missed Dan leaving and Frank joining.
      await waitForOnline(frank, ['Frank']);
      proxy.restore();
      await waitForState(erin, 'connected');
      await waitForOnline(erin, ['Erin', 'Frank']);
    } finally {
      await proxy.close();
    }
  });

  it('fits the online list on a phone and closes it with Escape', async () => {
    const page = await browser.openChat(server.url, PHONE);
    await signIn(page, 'Gwendolyn Featherstonehaugh-Smy');
    await waitForOnline(page, ['Gwendolyn Featherstonehaugh-Smy']);
    await openOnlineList(page);
    const widths = await page.locator('html').evaluate((html: { scrollWidth: number; clientWidth: number }) => [html.scrollWidth, html.clientWidth]);
    expect(widths[0]).toBeLessThanOrEqual(widths[1]!);
    await page.screenshot({ path: join(OUTPUT_DIR, 'chat-online-phone.png') });
    await page.keyboard.press('Escape');
    await page.getByTestId('online-panel').waitFor({ state: 'hidden' });
    await expect(page.getByTestId('online-toggle').getAttribute('aria-expanded')).resolves.toBe('false');
  });
});

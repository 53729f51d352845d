import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { ensureClientBuilt } from '../helpers/client-build';
import { ChatBrowser, PHONE, listItems, send, signIn, waitForIds, waitForState, waitForText } from '../helpers/chat-browser';
import { TcpProxy } from '../helpers/tcp-proxy';
import { startTestServer, type TestServer } from '../helpers/test-server';

const ROOT = join(__dirname, '..', '..');
/** Screenshots for people to look at (git-ignored); `docs/chat.png` is the README's copy (UPDATE_SCREENSHOTS=1). */
const OUTPUT_DIR = join(ROOT, 'test-output');
/** Streams reconnect quickly so a cut connection comes back within the test's patience. */
const SERVER_ENV = { RETRY_MS: '250' };

let browser: ChatBrowser;
let server: TestServer;

beforeAll(async () => {
  await mkdir(OUTPUT_DIR, { recursive: true });
  // The page streams with @ssehub/client, which the hub serves from client/dist.
  ensureClientBuilt();
  server = await startTestServer('redis', SERVER_ENV);
  browser = await ChatBrowser.launch();
});

afterEach(async () => {
  // Uncaught page errors, CSP violations and dialogs (an alert() that ran) fail the test.
  expect(await browser.closePages()).toEqual([]);
});

afterAll(async () => {
  // Either may be missing when beforeAll failed half-way.
  await Promise.all([browser?.close(), server?.close()]);
});

/** Posts a chat message over plain HTTP, as a script would (no session: user "anonymous"). */
async function postOverHttp(baseUrl: string, message: string): Promise<string> {
  const response = await fetch(`${baseUrl}/post`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ message }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

async function historyIds(baseUrl: string): Promise<string[]> {
  const response = await fetch(`${baseUrl}/channels/chat/events?limit=1000`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { events: Array<{ id: string }> }).events.map((event) => event.id);
}

function isStrictlyIncreasing(ids: readonly string[]): boolean {
  return ids.every((id, index) => index === 0 || BigInt(id) > BigInt(ids[index - 1]!));
}

describe('the browser chat', () => {
  it('lets two people with two names chat both ways, each seeing every message exactly once', async () => {
    const [alice, bob] = await Promise.all([browser.openChat(server.url), browser.openChat(server.url)]);
    await signIn(alice, 'Alice');
    await signIn(bob, 'Bob');
    const conversation: Array<[Page, string, string]> = [
      [alice, 'Alice', 'Hi Bob! Is the hub streaming yet?'],
      [bob, 'Bob', 'It is. Every message carries an id, so a reconnect picks up where it left off.'],
      [alice, 'Alice', 'Even when my train goes through a tunnel?'],
      [bob, 'Bob', 'Even then: the browser sends Last-Event-ID and the hub replays what you missed.'],
      [alice, 'Alice', 'Perfect. Shipping it!'],
    ];
    for (const [sender, , text] of conversation) {
      await send(sender, text);
      await waitForText(sender === alice ? bob : alice, text);
    }

    for (const [page, name] of [
      [alice, 'Alice'],
      [bob, 'Bob'],
    ] as const) {
      const items = await listItems(page);
      expect(items.map(({ user, text }) => [user, text])).toEqual(conversation.map(([, user, text]) => [user, text]));
      expect(items.map((item) => item.own)).toEqual(conversation.map(([, user]) => user === name));
      expect(isStrictlyIncreasing(items.map((item) => item.id))).toBe(true);
    }
    await expect(alice.locator('[data-testid="message"] time').first().getAttribute('datetime')).resolves.toMatch(
      /^\d{4}-\d\d-\d\dT/,
    );

    await alice.getByLabel('Message', { exact: true }).fill('Typing with Enter to send…');
    await alice.screenshot({ path: join(OUTPUT_DIR, 'chat.png') });
    // The README's copy changes only on request, so a test run leaves the tree clean.
    if (process.env.UPDATE_SCREENSHOTS === '1') {
      await mkdir(join(ROOT, 'docs'), { recursive: true });
      await copyFile(join(OUTPUT_DIR, 'chat.png'), join(ROOT, 'docs', 'chat.png'));
    }
  });

  it('after its stream is cut, reconnects from the last id it showed and shows every message exactly once, in order', async () => {
    const proxy = await TcpProxy.start(server.port);
    try {
      const page = await browser.openChat(proxy.url);
      const before = [await postOverHttp(server.url, 'before the cut 1'), await postOverHttp(server.url, 'before the cut 2')];
      await waitForIds(page, before);

      const connectionsBeforeCut = proxy.requests.length;
      proxy.cut();
      await waitForState(page, 'reconnecting');
      await page.screenshot({ path: join(OUTPUT_DIR, 'chat-reconnecting.png') });
      const during: string[] = [];
      for (let n = 1; n <= 5; n++) during.push(await postOverHttp(server.url, `while cut off ${n}`));
      proxy.restore();

      await waitForIds(page, during);
      await waitForState(page, 'connected');
      const after = await postOverHttp(server.url, 'after the reconnect');
      await waitForIds(page, [after]);

      const items = await listItems(page);
      const shownIds = items.map((item) => item.id);
      expect(shownIds).toEqual(await historyIds(server.url));
      expect(new Set(shownIds).size).toBe(shownIds.length);
      expect(isStrictlyIncreasing(shownIds)).toBe(true);
      const ours = items.filter((item) => /^(before the cut|while cut off|after the reconnect)/.test(item.text));
      expect(ours.map((item) => item.id)).toEqual([...before, ...during, after]);
      // The page's client resumed by itself, sending the last id it had handled as its cursor.
      const resumed = proxy.requests.slice(connectionsBeforeCut).join('\n');
      expect(resumed).toMatch(new RegExp(`^GET /streams\\?channel=chat&lastEventId=chat%3D${before[1]} `, 'm'));
    } finally {
      await proxy.close();
    }
  });

  it('marks a gap and shows what the history still holds when missed messages were trimmed', async () => {
    const small = await startTestServer('redis', { ...SERVER_ENV, HISTORY_SIZE: '3' });
    const proxy = await TcpProxy.start(small.port);
    try {
      const page = await browser.openChat(proxy.url);
      const kept = [await postOverHttp(small.url, 'seen 1'), await postOverHttp(small.url, 'seen 2')];
      await waitForIds(page, kept);
      proxy.cut();
      await waitForState(page, 'reconnecting');
      const missed: string[] = [];
      for (let n = 1; n <= 5; n++) missed.push(await postOverHttp(small.url, `missed ${n}`));
      proxy.restore();

      await page.getByTestId('gap').waitFor();
      await waitForIds(page, missed.slice(2));
      const live = await postOverHttp(small.url, 'live again');
      await waitForIds(page, [live]);
      const items = await listItems(page);
      expect(items.map((item) => (item.kind === 'gap' ? 'gap' : item.text))).toEqual([
        'seen 1',
        'seen 2',
        'gap',
        'missed 3',
        'missed 4',
        'missed 5',
        'live again',
      ]);
      await page.screenshot({ path: join(OUTPUT_DIR, 'chat-gap.png') });
    } finally {
      await proxy.close();
      await small.close();
    }
  });

  it('shows markup in names and messages as literal text and runs none of it', async () => {
    const page = await browser.openChat(server.url);
    const name = '<img src=x onerror=alert(2)>';
    const markup = '<img src=x onerror=alert(1)>';
    const script = '<script>alert(3)</script><b>bold?</b>';
    await signIn(page, name);
    await send(page, markup);
    await postOverHttp(server.url, script);
    await waitForText(page, script);

    const items = await listItems(page);
    expect(items.slice(-2).map(({ user, text, own }) => ({ user, text, own }))).toEqual([
      { user: name, text: markup, own: true },
      { user: 'anonymous', text: script, own: false },
    ]);
    await expect(page.getByTestId('current-name').textContent()).resolves.toBe(name);
    // No element was made from the text; an alert() that ran would fail the test in afterEach.
    await expect(page.locator('[data-testid="messages"] :is(img, script, b)').count()).resolves.toBe(0);
    await expect(page.locator('.message-author').getByText(name, { exact: true }).count()).resolves.toBeGreaterThan(0);
  });

  it('shows messages published over plain HTTP live, by /post and by the channel API', async () => {
    const page = await browser.openChat(server.url);
    const id = await postOverHttp(server.url, 'hello from curl');
    await waitForIds(page, [id]);
    const response = await fetch(`${server.url}/channels/chat/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ data: { user: 'robot', text: 'beep from the API', ts: new Date().toISOString() } }),
    });
    expect(response.status).toBe(201);
    const published = (await response.json()) as { id: string };
    await waitForIds(page, [published.id]);

    const items = await listItems(page);
    expect(items.slice(-2)).toEqual([
      { kind: 'message', id, user: 'anonymous', text: 'hello from curl', own: false },
      { kind: 'message', id: published.id, user: 'robot', text: 'beep from the API', own: false },
    ]);
  });

  it('loads recent history oldest first, remembers the name across reloads and forgets it on logout', async () => {
    const page = await browser.openChat(server.url);
    await signIn(page, 'Carol');
    await page.reload();
    await waitForState(page, 'connected');
    await page.getByTestId('current-name').getByText('Carol', { exact: true }).waitFor();
    const items = await listItems(page);
    expect(items.map((item) => item.id)).toEqual((await historyIds(server.url)).slice(-100));

    await page.getByTestId('change-name').click();
    await signIn(page, 'Caroline');
    await page.getByTestId('logout').click();
    await page.getByLabel('Your name', { exact: true }).waitFor();
    await expect(page.getByLabel('Message', { exact: true }).isDisabled()).resolves.toBe(true);
    await page.reload();
    await page.getByLabel('Your name', { exact: true }).waitFor();
    await expect(page.getByTestId('current-name').isVisible()).resolves.toBe(false);
  });

  it('shows offline while the browser is offline and connects again when it is back', async () => {
    const page = await browser.openChat(server.url);
    await page.context().setOffline(true);
    await waitForState(page, 'offline');
    await page.context().setOffline(false);
    await waitForState(page, 'connected');
    const id = await postOverHttp(server.url, 'back online');
    await waitForIds(page, [id]);
  });

  it('fits a phone-sized screen without sideways scrolling', async () => {
    const page = await browser.openChat(server.url, PHONE);
    await signIn(page, 'Dana');
    await send(page, 'Typed on a phone, with a long unbroken word: supercalifragilisticexpialidocious-and-then-some');
    const widths = await page.locator('html').evaluate((html: { scrollWidth: number; clientWidth: number }) => [
      html.scrollWidth,
      html.clientWidth,
    ]);
    expect(widths[0]).toBeLessThanOrEqual(widths[1]!);
    await page.screenshot({ path: join(OUTPUT_DIR, 'chat-phone.png') });
  });
});

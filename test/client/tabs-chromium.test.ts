import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { waitForIds, waitForState } from '../helpers/chat-browser';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { ensureClientBuilt } from '../helpers/client-build';
import { consecutive, CLIENT_WAIT } from './client-helpers';
import { eventually } from '../helpers/eventually';
import { publishId } from '../helpers/publish';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
let channels: string[] = [];

/**
 * Subscribes in the page with `share: 'tabs'`, through the module the hub serves; keeps each
 * item as "<channel> <id>" in `window.ssehubItems`. A string, so that the TypeScript compiler
 * leaves its dynamic import alone.
 */
const subscribeInPage = (): string => `(async () => {
  const { SseHubClient } = await import('/client/ssehub-client.js');
  const hub = new SseHubClient();
  const sub = hub.subscribe(${JSON.stringify(channels)}, { share: 'tabs', cursor: ${JSON.stringify(channels.map((channel) => `${channel}=0`).join(','))} });
  window.ssehubItems = [];
  window.ssehubStates = [];
  sub.on('state', (state) => { window.ssehubStates.push(state); });
  sub.on('event', (item) => { window.ssehubItems.push(item.channel + ' ' + item.id); });
  sub.on('gap', (item) => { window.ssehubItems.push('gap ' + item.channel); });
  sub.on('error', (error) => { window.ssehubItems.push('error ' + error.message); });
})()`;

async function itemsOf(page: Page): Promise<string[]> {
  return page.evaluate<string[]>('window.ssehubItems.slice()');
}

function idsOf(items: string[], channel: string): number[] {
  return items.filter((item) => item.startsWith(`${channel} `)).map((item) => Number(item.split(' ')[1]));
}

async function publishRound(url: string, from: number, to: number): Promise<void> {
  for (let n = from; n < to; n++) for (const channel of channels) await publishId(url, channel, { n });
}

describe('share: "tabs" in Chromium', () => {
  let hub: TestServer;
  let browser: Browser;
  let context: BrowserContext;

  beforeAll(async () => {
    ensureClientBuilt();
    hub = await startTestServer('redis');
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await hub?.close();
  });
  let testNumber = 0;
  beforeEach(async () => {
    testNumber++;
    channels = [`tabs${testNumber}.a`, `tabs${testNumber}.b`];
    context = await browser.newContext();
  });
  afterEach(async () => {
    await context.close();
  });

  async function openTab(): Promise<Page> {
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    // Any page of the hub's origin will do: the module is imported from /client/.
    await page.goto(`${hub.url}/healthz`);
    await page.evaluate(subscribeInPage());
    return page;
  }

  it('two tabs hold one connection; when the leader tab closes mid-stream the other takes over, and each sees every id once', async () => {
    const leader = await openTab();
    await eventually(() => hub.hub.clientCount === 1, 'the first tab to open the stream', CLIENT_WAIT);
    const follower = await openTab();
    await publishRound(hub.url, 0, 10);
    for (const page of [leader, follower]) {
      await eventually(async () => (await itemsOf(page)).length >= 20, 'both tabs to show 20 events', CLIENT_WAIT);
    }
    expect(hub.hub.clientCount).toBe(1);

    const publishing = publishRound(hub.url, 10, 40);
    await eventually(async () => (await itemsOf(follower)).length >= 30, 'the tabs to be mid-stream', CLIENT_WAIT);
    const leaderItems = await itemsOf(leader);
    await leader.close();
    await publishing;
    await eventually(async () => (await itemsOf(follower)).length >= 80, 'the remaining tab to show all 80 events', CLIENT_WAIT);
    await eventually(() => hub.hub.clientCount === 1, 'the remaining tab to hold its own stream', CLIENT_WAIT);

    const followerItems = await itemsOf(follower);
    expect(followerItems.length).toBe(80);
    for (const channel of channels) {
      const ids = idsOf(followerItems, channel);
      expect(ids).toEqual(consecutive(ids[0]!, 40));
      const leaderIds = idsOf(leaderItems, channel);
      expect(leaderIds).toEqual(consecutive(ids[0]!, leaderIds.length));
    }
  });

  it('a frozen leader tab lets go of the stream; the other tab takes over, and the thawed tab catches up with every id once', async () => {
    const first = await openTab();
    await eventually(() => hub.hub.clientCount === 1, 'the first tab to open the stream', CLIENT_WAIT);
    const second = await openTab();
    await publishRound(hub.url, 100, 105);
    for (const page of [first, second]) await eventually(async () => (await itemsOf(page)).length >= 10, 'both tabs to show 10 events', CLIENT_WAIT);

    const lifecycle = await context.newCDPSession(first);
    await lifecycle.send('Page.setWebLifecycleState', { state: 'frozen' });
    await publishRound(hub.url, 105, 115);
    await eventually(async () => (await itemsOf(second)).length >= 30, 'the other tab to take over and show 30 events', CLIENT_WAIT);
    await eventually(() => hub.hub.clientCount === 1, 'one stream again: the frozen tab released its own', CLIENT_WAIT);
    await lifecycle.send('Page.setWebLifecycleState', { state: 'active' });
    await publishRound(hub.url, 115, 120);

    for (const page of [first, second]) {
      await eventually(async () => (await itemsOf(page)).length >= 40, 'both tabs to show all 40 events', CLIENT_WAIT);
      const items = await itemsOf(page);
      expect(items.length).toBe(40);
      for (const channel of channels) {
        const ids = idsOf(items, channel);
        expect(ids).toEqual(consecutive(ids[0]!, 20));
      }
    }
  });

  it('two tabs of the chat page hold one connection between them and both show a new message', async () => {
    const tabs = [await context.newPage(), await context.newPage()];
    for (const tab of tabs) {
      tab.setDefaultTimeout(15_000);
      await tab.goto(hub.url);
      await waitForState(tab, 'connected');
    }
    expect(hub.hub.clientCount).toBe(1);
    const response = await fetch(`${hub.url}/post`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'seen by both tabs' }),
    });
    const { id } = (await response.json()) as { id: string };
    for (const tab of tabs) await waitForIds(tab, [id]);
    expect(hub.hub.clientCount).toBe(1);
  });
});


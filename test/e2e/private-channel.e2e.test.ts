import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { chromium, type Browser, type Page } from 'playwright-core';
import { makeKey, signToken } from '../helpers/access-tokens';
import { publishJson } from '../helpers/publish';
import { bearer } from '../helpers/read-request';
import { startTestServer, type TestServer } from '../helpers/test-server';

const README = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

/** The README's fenced js block that contains `marker`, verbatim. */
function readmeSnippet(marker: string): string {
  const block = [...README.matchAll(/```js\n([\s\S]*?)```/g)].map((match) => match[1]!).find((code) => code.includes(marker));
  if (block === undefined) throw new Error(`README has no js block with ${marker}`);
  return block;
}

describe("the README's token snippet", () => {
  it('mints a token that opens the private channel it grants, and nothing else', async () => {
    const key = makeKey('HS256');
    const server = await startTestServer('memory', { ...key.env, PUBLIC_CHANNELS: 'chat' });
    try {
      // Run as a user would paste it: CommonJS require, the secret from the environment.
      const token = (await runInNewContext(`(async () => {\n${readmeSnippet('new SignJWT')}\nreturn token;\n})()`, {
        require,
        process: { env: { JWT_SECRET: key.env.JWT_SECRET } },
        TextEncoder,
      })) as string;
      const status = async (path: string, headers: Record<string, string> = {}, init: RequestInit = {}): Promise<number> =>
        (await fetch(`${server.url}${path}`, { ...init, headers: { ...headers, ...(init.headers as Record<string, string>) } })).status;
      expect(await status('/channels/user.42.inbox/events')).toBe(401);
      expect(await status('/channels/user.42.inbox/events', bearer(token))).toBe(200);
      expect(await status('/channels/orders.eu/events', bearer(token))).toBe(200);
      expect(await status('/channels/user.43.inbox/events', bearer(token))).toBe(403);
      expect(await status('/channels/chat/events')).toBe(200);
      const post = { method: 'POST', body: JSON.stringify({ data: 1 }), headers: { 'Content-Type': 'application/json' } };
      expect(await status('/channels/user.42.outbox/events', bearer(token), post)).toBe(201);
      expect(await status('/channels/user.42.inbox/events', bearer(token), post)).toBe(403);
    } finally {
      await server.close();
    }
  });
});

describe("the README's ticket flow in Chromium, from a page of another site", () => {
  const key = makeKey('HS256');
  let hub: TestServer;
  let page: HttpServer;
  let pageUrl: string;
  let browser: Browser;
  let tokensMinted = 0;
  let onToken: () => void = () => undefined;

  beforeAll(async () => {
    // The page is served from localhost, the hub from 127.0.0.1: another site, so no cookie helps.
    page = createServer((request, response) => {
      if (request.url === '/api/ssehub-token') {
        tokensMinted++;
        // Tokens of 4 s: the stream must survive several expiries by renewing.
        void signToken(key, { subscribe: ['user.{sub}.*'] }, { sub: '42', expiresInS: 4 }).then((token) => {
          response.end(token);
          onToken();
        });
        return;
      }
      response.setHeader('Content-Type', 'text/html; charset=utf-8');
      response.end(pageHtml(hub.url));
    });
    page.listen(0, '127.0.0.1');
    await once(page, 'listening');
    pageUrl = `http://localhost:${(page.address() as AddressInfo).port}`;
    hub = await startTestServer('redis', { ...key.env, PUBLIC_CHANNELS: 'chat', CORS_ORIGINS: pageUrl });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
  });

  afterAll(async () => {
    await browser?.close();
    await hub?.close();
    page?.close();
  });

  function pageHtml(hubUrl: string): string {
    const snippet = readmeSnippet('hub.reauth').replace("const HUB = 'https://hub.example.com';", `const HUB = ${JSON.stringify(hubUrl)};`);
    return `<!doctype html><meta charset="utf-8"><title>ticket flow</title><script>
window.received = [];
function render(data) { window.received.push(data); }
${snippet}
follow('user.42.inbox', '0');
</script>`;
  }

  async function publish(n: number): Promise<void> {
    const publisher = await signToken(key, { publish: ['user.*.inbox'] });
    expect((await publishJson(hub, 'user.42.inbox', n, { token: publisher })).status).toBe(201);
  }

  async function received(tab: Page): Promise<number[]> {
    return tab.evaluate(() => (globalThis as unknown as { received: number[] }).received);
  }

  /** Resolves once the page has fetched `count` tokens (it fetches one per renewal). */
  function tokensReach(count: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${tokensMinted} tokens were minted`)), 10_000);
      onToken = () => {
        if (tokensMinted < count) return;
        clearTimeout(timer);
        resolve();
      };
      onToken();
    });
  }

  it('streams the private channel through several token expiries, every event exactly once and in order', async () => {
    const context = await browser.newContext();
    const tab = await context.newPage();
    const problems: string[] = [];
    tab.on('pageerror', (error) => problems.push(error.message));
    await tab.goto(pageUrl);
    let next = 1;
    // Publish while the page renews its credential at least three times.
    for (const renewals of [1, 2, 3, 4]) {
      for (let index = 0; index < 5; index++) await publish(next++);
      await tokensReach(renewals + 1);
    }
    for (let index = 0; index < 5; index++) await publish(next++);
    const expected = Array.from({ length: next - 1 }, (_, index) => index + 1);
    await tab.waitForFunction((count) => (globalThis as unknown as { received: number[] }).received.length >= count, expected.length, { timeout: 15_000 });
    expect(await received(tab)).toEqual(expected);
    expect(problems).toEqual([]);
    await context.close();
  });
});

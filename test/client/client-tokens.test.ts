import { ForbiddenError, SseHubClient, UnauthorizedError, type SseHubError } from '../../client/src/index.js';
import { makeKey, signToken, type TestKey } from '../helpers/access-tokens';
import { startTestServer } from '../helpers/test-server';
import { Collector, consecutive } from './client-helpers';

const PUBLISH_TOKEN = 'publisher-secret-for-client-tests';

async function publish(url: string, channel: string, data: unknown): Promise<void> {
  const response = await fetch(`${url}/channels/${channel}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${PUBLISH_TOKEN}` },
    body: JSON.stringify({ data }),
  });
  if (response.status !== 201) throw new Error(`publish answered ${response.status}: ${await response.text()}`);
}

describe('@ssehub/client with private channels', () => {
  let key: TestKey;
  let hub: Awaited<ReturnType<typeof startTestServer>>;

  beforeAll(async () => {
    key = makeKey('HS256');
    hub = await startTestServer('redis', { ...key.env, PUBLIC_CHANNELS: '', PUBLISH_TOKEN, TICKET_TTL_S: '2' });
  });
  afterAll(async () => {
    await hub.close();
  });

  /** Publishes `count` events on each channel, one after another, while the client reads. */
  async function publishWhileReading(channels: string[], count: number): Promise<void> {
    for (let n = 0; n < count; n++) {
      for (const channel of channels) await publish(hub.url, channel, { n });
      // Spread over the tokens' short lives, so expiries fall mid-stream.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('renews its token on hub.reauth before expiry and keeps every event once, in order, across several expiries', async () => {
    const tokens: string[] = [];
    const client = new SseHubClient({
      baseUrl: hub.url,
      headers: async () => {
        const token = await signToken(key, { subscribe: ['private.*'] }, { expiresInS: 5 });
        tokens.push(token);
        return { authorization: `Bearer ${token}` };
      },
    });
    const received = new Collector(client.subscribe(['private.a', 'private.b'], { cursor: 'private.a=0,private.b=0' }));
    try {
      await publishWhileReading(['private.a', 'private.b'], 120);
      await received.waitForEvents('private.a', 120);
      await received.waitForEvents('private.b', 120);
      for (const channel of ['private.a', 'private.b']) {
        const ids = received.idsOf(channel);
        expect(ids).toEqual(consecutive(ids[0]!, 120));
      }
      expect(received.gaps).toEqual([]);
      // Tokens live 4-5 s (exp is whole seconds), so a reconnect delayed by a loaded machine still
      // arrives before its token expires (with 2 s tokens, living 1-2 s, two late reconnects in a
      // row met two 401s and ended the subscription). About 6 s of publishing with renewals at
      // half life: at least two renewals.
      expect(tokens.length).toBeGreaterThanOrEqual(3);
    } finally {
      await received.close();
    }
  });

  it('reads with tickets when asked, renewing the ticket before it expires, every event once', async () => {
    let ticketsAsked = 0;
    const client = new SseHubClient({
      baseUrl: hub.url,
      ticket: true,
      headers: async () => {
        ticketsAsked++;
        return { authorization: `Bearer ${await signToken(key, { subscribe: ['ticketed'] }, { expiresInS: 60 })}` };
      },
    });
    const received = new Collector(client.subscribe('ticketed', { cursor: 'ticketed=0' }));
    try {
      await publishWhileReading(['ticketed'], 60);
      await received.waitForEvents('ticketed', 60);
      const ids = received.idsOf('ticketed');
      expect(ids).toEqual(consecutive(ids[0]!, 60));
      // 2 s tickets over about 3 s of streaming.
      expect(ticketsAsked).toBeGreaterThanOrEqual(2);
    } finally {
      await received.close();
    }
  });

  it('asks for headers again after a 401, then fails with UnauthorizedError carrying status and code', async () => {
    let calls = 0;
    const client = new SseHubClient({
      baseUrl: hub.url,
      headers: () => {
        calls++;
        return { authorization: 'Bearer not-a-valid-token' };
      },
    });
    const sub = client.subscribe('private.a');
    const error = (await sub.next().catch((caught: unknown) => caught)) as SseHubError;
    expect(error).toBeInstanceOf(UnauthorizedError);
    expect([error.status, error.code, calls]).toEqual([401, 'unauthorized', 2]);
  });

  it('fails with ForbiddenError naming the channel when the token does not grant it', async () => {
    const client = new SseHubClient({
      baseUrl: hub.url,
      headers: async () => ({ authorization: `Bearer ${await signToken(key, { subscribe: ['private.a'] })}` }),
    });
    const sub = client.subscribe(['private.a', 'secret']);
    const error = (await sub.next().catch((caught: unknown) => caught)) as SseHubError;
    expect(error).toBeInstanceOf(ForbiddenError);
    expect([error.status, error.code]).toEqual([403, 'forbidden']);
    expect(error.message).toContain('secret');
  });
});

import { SseHubClient } from '../../client/src/index.js';
import { writeChannelsConfig } from '../helpers/channels-config';
import { startTestServer } from '../helpers/test-server';
import { eventually } from '../helpers/eventually';
import { CLIENT_WAIT, Collector } from './client-helpers';

type Hub = Awaited<ReturnType<typeof startTestServer>>;

async function publish(url: string, channel: string, body: unknown, expected: number): Promise<unknown> {
  const response = await fetch(`${url}/channels/${channel}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== expected) throw new Error(`publish answered ${response.status}: ${await response.text()}`);
  return response.json();
}

describe('@ssehub/client against a hub with an ephemeral namespace', () => {
  let hub: Hub;
  let collector: Collector | undefined;

  beforeAll(async () => {
    hub = await startTestServer('redis', {
      CHANNELS_CONFIG: writeChannelsConfig({ namespaces: [{ pattern: 'typing.*', history: 0 }] }),
    });
  });
  afterEach(async () => {
    await collector?.close();
    collector = undefined;
  });
  afterAll(async () => {
    await hub.close();
  });

  it('receives ephemeral events with id null, and keeps a never-published stored channel in its cursor', async () => {
    const client = new SseHubClient({ baseUrl: hub.url });
    const sub = client.subscribe(['typing.room1', 'room1'], { backoff: { initialMs: 20, maxMs: 200 } });
    collector = new Collector(sub);
    // The stored channel, never published to, is in the opening cursor: not taken for ephemeral.
    // Its entry appears once the stream is open, so the ephemeral publish below reaches it.
    await eventually(() => sub.cursor.includes('room1=0'), `room1=0 in the cursor (have "${sub.cursor}")`, CLIENT_WAIT);
    expect(await publish(hub.url, 'typing.room1', { event: 'typing', data: { who: 'ann' } }, 202)).toEqual({ channel: 'typing.room1', event: 'typing' });
    const stored = (await publish(hub.url, 'room1', { data: 'hello' }, 201)) as { id: string };
    await eventually(() => collector?.items.some((item) => item.kind === 'event' && item.channel === 'room1') ?? false, 'the stored event', CLIENT_WAIT);
    const events = collector.items.filter((item) => item.kind === 'event');
    expect(events).toEqual([
      expect.objectContaining({ channel: 'typing.room1', id: null, event: 'typing', data: { who: 'ann' } }),
      expect.objectContaining({ channel: 'room1', id: stored.id, data: 'hello' }),
    ]);
    expect(collector.gaps).toEqual([]);
    expect(sub.cursor).toBe(`room1=${stored.id}`);
  });
});

import { OpenStreams, type SseClient } from '../helpers/sse-client';
import { BROKERS, startTestServer, type TestServer } from '../helpers/test-server';
import { chatLogin, memberList, readPresence, signalData, signals, waitForPresence } from '../helpers/presence';

const streams = new OpenStreams();
afterEach(() => streams.closeAll());

/** Publishes a marker event and waits until `observer` has it: every earlier signal has arrived too. */
async function settle(server: TestServer, observer: SseClient, channel = 'chat'): Promise<void> {
  const response = await fetch(`${server.url}/channels/${channel}/events`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ event: 'marker', data: null }),
  });
  const { id } = (await response.json()) as { id: string };
  await observer.waitFor((client) => client.messages.some((message) => message.id === id), 10_000, `marker ${id}`);
}

describe.each(BROKERS)('presence on one instance (%s broker)', (broker) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(broker, { PRESENCE_CHANNELS: 'room.*,desk.**' });
  });
  afterAll(() => server.close());

  it('counts anonymous streams in connections only and lists chat names as members, deduplicated', async () => {
    const before = await readPresence(server.url);
    expect(before).toEqual({ channel: 'chat', connections: 0, members: [] });
    const alice = await chatLogin(server.url, 'Alice');
    await streams.open(`${server.url}/stream`);
    await streams.open(`${server.url}/stream`, alice);
    await streams.open(`${server.url}/channels/chat/stream`, alice);
    const body = await waitForPresence(server.url, (presence) => presence.connections === 3 && presence.members.length === 1);
    expect(body).toEqual({ channel: 'chat', connections: 3, members: [{ sub: 'Alice', info: {}, connections: 2 }] });
    streams.closeAll();
    await waitForPresence(server.url, (presence) => presence.connections === 0 && presence.members.length === 0);
  });

  it('tracks channels matching PRESENCE_CHANNELS and answers 404 presence_disabled for the others', async () => {
    await streams.open(`${server.url}/channels/room.a/stream`);
    await waitForPresence(server.url, (presence) => presence.connections === 1, 'room.a');
    await expect(readPresence(server.url, 'desk.eu.1')).resolves.toEqual({ channel: 'desk.eu.1', connections: 0, members: [] });
    for (const channel of ['room', 'room.a.b', 'desk', 'lobby']) {
      const response = await fetch(`${server.url}/channels/${channel}/presence`);
      expect(response.status).toBe(404);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('presence_disabled');
    }
    const invalid = await fetch(`${server.url}/channels/-bad/presence`);
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { error: { code: string } }).error.code).toBe('invalid_channel');
  });

  it('sends hub.join on a first stream and hub.leave on the last; a second tab neither joins nor leaves', async () => {
    const observer = await streams.open(`${server.url}/stream`);
    const alice = await chatLogin(server.url, 'Alice');
    const bob = await chatLogin(server.url, 'Bob');
    const aliceTab1 = await streams.open(`${server.url}/stream`, alice);
    await waitForPresence(server.url, (presence) => memberList(presence).join() === 'Alice×1');
    const aliceTab2 = await streams.open(`${server.url}/stream`, alice);
    await waitForPresence(server.url, (presence) => memberList(presence).join() === 'Alice×2');
    const bobTab = await streams.open(`${server.url}/stream`, bob);
    await waitForPresence(server.url, (presence) => memberList(presence).join() === 'Alice×2,Bob×1');
    aliceTab1.close();
    await waitForPresence(server.url, (presence) => memberList(presence).join() === 'Alice×1,Bob×1');
    await settle(server, observer);
    expect(signals(observer)).toEqual(['join Alice', 'join Bob']);
    aliceTab2.close();
    await waitForPresence(server.url, (presence) => memberList(presence).join() === 'Bob×1');
    bobTab.close();
    await waitForPresence(server.url, (presence) => presence.members.length === 0);
    await settle(server, observer);
    expect(signals(observer)).toEqual(['join Alice', 'join Bob', 'leave Alice', 'leave Bob']);
    const join = observer.messages.find((message) => message.event === 'hub.join');
    expect(join?.id).toBeUndefined();
    expect(signalData(join!)).toEqual({ channel: 'chat', sub: 'Alice', info: {} });
  });

  it('tracks each presence channel of a multi-channel stream, and sends its joins there once', async () => {
    const observer = await streams.open(`${server.url}/streams?channel=chat&channel=room.b&channel=lobby`);
    const alice = await chatLogin(server.url, 'Alice');
    await streams.open(`${server.url}/streams?channel=chat&channel=room.b`, alice);
    await waitForPresence(server.url, (presence) => memberList(presence).join() === 'Alice×1');
    await waitForPresence(server.url, (presence) => presence.connections === 2, 'room.b');
    await observer.waitFor((client) => signals(client).includes('join Alice'), 5000, 'join Alice');
    const joins = observer.messages.filter((message) => message.event === 'hub.join');
    expect(joins.map((message) => [message.id, signalData(message)])).toEqual([[undefined, { channel: 'chat', sub: 'Alice', info: {} }]]);
  });

  it('exports the refresh duration and the tracked members, without per-channel labels', async () => {
    await streams.open(`${server.url}/channels/room.x/stream`);
    await streams.open(`${server.url}/stream`, await chatLogin(server.url, 'Metrics'));
    await waitForPresence(server.url, (presence) => presence.members.length === 1);
    await server.presence.refresh();
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/^ssehub_presence_members 1$/m);
    expect(text).toMatch(/^ssehub_presence_refresh_duration_seconds_count [1-9]\d*$/m);
    expect(text).not.toMatch(/^ssehub_presence_\w+\{[^}]*channel=/m);
  });

  it('leaves ids consecutive and the history free of joins and leaves', async () => {
    const observer = await streams.open(`${server.url}/stream`);
    const ids: string[] = [];
    for (let n = 0; n < 4; n++) {
      const response = await fetch(`${server.url}/post`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ message: `m${n}` }),
      });
      ids.push(((await response.json()) as { id: string }).id);
      const visitor = await streams.open(`${server.url}/stream`, await chatLogin(server.url, `visitor ${n}`));
      await waitForPresence(server.url, (presence) => presence.members.some((member) => member.sub === `visitor ${n}`));
      visitor.close();
    }
    await settle(server, observer);
    const received = observer.messages.filter((message) => message.event === 'message').map((message) => message.id);
    expect(received).toEqual(ids);
    expect(ids.map((id, index) => BigInt(id) - BigInt(ids[0]!) - BigInt(index))).toEqual([0n, 0n, 0n, 0n]);
    expect(observer.messages.filter((message) => message.event.startsWith('hub.')).every((message) => message.id === undefined)).toBe(true);
    expect(signals(observer).filter((signal) => signal.startsWith('join')).length).toBe(4);
    const history = (await (await fetch(`${server.url}/channels/chat/events?limit=1000`)).json()) as { events: Array<{ event: string }> };
    expect(history.events.every((event) => !event.event.startsWith('hub.'))).toBe(true);
  });
});

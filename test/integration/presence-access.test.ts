import { makeKey, signToken, type TestKey } from '../helpers/access-tokens';
import { chatLogin, memberList, waitForPresence } from '../helpers/presence';
import { OpenStreams } from '../helpers/sse-client';
import { startTestServer, type TestServer } from '../helpers/test-server';

const streams = new OpenStreams();
afterEach(() => streams.closeAll());

let key: TestKey;
let server: TestServer;
beforeAll(async () => {
  key = makeKey('HS256');
  server = await startTestServer('redis', { ...key.env, PUBLIC_CHANNELS: 'chat,lobby', PRESENCE_CHANNELS: 'room.*,lobby' });
});
afterAll(() => server.close());

function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

async function presenceStatus(channel: string, headers: Record<string, string> = {}, query = ''): Promise<{ status: number; code?: string; authenticate: string | null }> {
  const response = await fetch(`${server.url}/channels/${channel}/presence${query}`, { headers });
  const body = (await response.json()) as { error?: { code: string } };
  return { status: response.status, code: body.error?.code, authenticate: response.headers.get('WWW-Authenticate') };
}

describe('presence with access tokens', () => {
  it("lists a token's sub with its info; on chat the token's sub wins over the session's name", async () => {
    const ada = await signToken(key, { subscribe: ['room.*'], info: { name: 'Ada', role: 'agent' } }, { sub: '42' });
    await streams.open(`${server.url}/channels/room.a/stream`, bearer(ada));
    await streams.open(`${server.url}/streams?channel=room.a&channel=chat`, bearer(ada));
    const room = await waitForPresence(server.url, (presence) => presence.connections === 2, 'room.a', 10_000, bearer(ada));
    expect(room.members).toEqual([{ sub: '42', info: { name: 'Ada', role: 'agent' }, connections: 2 }]);
    await waitForPresence(server.url, (presence) => memberList(presence).join() === '42×1');

    const session = await chatLogin(server.url, 'Ada L.');
    await streams.open(`${server.url}/stream`, { ...bearer(ada), ...session });
    const chat = await waitForPresence(server.url, (presence) => presence.connections === 2);
    // The name its holder typed into /login cannot override who the token says they are.
    expect(chat.members).toEqual([{ sub: '42', info: { name: 'Ada', role: 'agent' }, connections: 2 }]);
    await streams.open(`${server.url}/stream`, session);
    const named = await waitForPresence(server.url, (presence) => presence.connections === 3);
    expect(named.members).toEqual([
      { sub: '42', info: { name: 'Ada', role: 'agent' }, connections: 2 },
      { sub: 'Ada L.', info: {}, connections: 1 },
    ]);
  });

  it('authorizes the presence route as the channel, before anything else', async () => {
    const roomA = await signToken(key, { subscribe: ['room.a'] }, { sub: '7' });
    const roomB = await signToken(key, { subscribe: ['room.b'] }, { sub: '7' });
    const everything = await signToken(key, { subscribe: ['**'] }, { sub: '7' });

    expect(await presenceStatus('room.a')).toEqual({ status: 401, code: 'unauthorized', authenticate: 'Bearer' });
    expect(await presenceStatus('room.a', bearer(roomB))).toMatchObject({ status: 403, code: 'forbidden' });
    expect(await presenceStatus('room.a', bearer(roomA))).toMatchObject({ status: 200 });
    expect(await presenceStatus('room.a', { Cookie: `ssehub_token=${roomA}` })).toMatchObject({ status: 200 });
    // Authorization comes first: an untracked private channel is 401 to a stranger, 404 to a reader.
    expect(await presenceStatus('orders')).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(await presenceStatus('orders', bearer(everything))).toMatchObject({ status: 404, code: 'presence_disabled' });
    // A public tracked channel needs nothing, but a credential that is present must be valid.
    expect(await presenceStatus('lobby')).toMatchObject({ status: 200 });
    expect(await presenceStatus('lobby', bearer('garbage'))).toMatchObject({ status: 401, code: 'unauthorized' });

    const ticketResponse = await fetch(`${server.url}/tickets`, { method: 'POST', headers: bearer(roomA) });
    expect(ticketResponse.status).toBe(201);
    const { ticket } = (await ticketResponse.json()) as { ticket: string };
    expect(await presenceStatus('room.a', {}, `?ticket=${encodeURIComponent(ticket)}`)).toMatchObject({ status: 200 });
    expect(await presenceStatus('room.b', {}, `?ticket=${encodeURIComponent(ticket)}`)).toMatchObject({ status: 403 });
  });
});

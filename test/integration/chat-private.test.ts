import { makeKey, signToken } from '../helpers/access-tokens';
import { HookServer } from '../helpers/hook-server';
import { chatLogin, waitForPresence } from '../helpers/presence';
import { OpenStreams } from '../helpers/sse-client';
import { startTestServer } from '../helpers/test-server';

type Server = Awaited<ReturnType<typeof startTestServer>>;

const streams = new OpenStreams();
afterEach(() => streams.closeAll());

const key = makeKey('HS256');

async function post(server: Server, headers: Record<string, string>, message = 'hello'): Promise<{ status: number; code: string | null }> {
  const response = await fetch(`${server.url}/post`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify({ message }) });
  const body = (await response.json()) as { error?: { code: string } };
  return { status: response.status, code: body.error?.code ?? null };
}

async function chatUsers(server: Server): Promise<string[]> {
  const reader = await signToken(key, { subscribe: ['**'] });
  const response = await fetch(`${server.url}/channels/chat/events`, { headers: { Authorization: `Bearer ${reader}` } });
  const body = (await response.json()) as { events: Array<{ data: { user: string } }> };
  return body.events.map((event) => event.data.user);
}

describe('POST /post when chat is not public', () => {
  let hook: HookServer;
  let server: Server;
  beforeAll(async () => {
    hook = await HookServer.start();
    server = await startTestServer('memory', { ...key.env, AUTH_HOOK_URL: hook.url, PUBLIC_CHANNELS: 'lobby' });
  });
  afterAll(async () => {
    await server.close();
    await hook.close();
  });

  it('stores nothing without a credential that may read chat: 401, or 403 for one without the grant', async () => {
    hook.reply = () => ({ status: 401 });
    const session = await chatLogin(server.url, 'Mallory');
    expect(await post(server, session)).toEqual({ status: 401, code: 'unauthorized' });
    hook.grant({ sub: 'mallory', subscribe: ['lobby', 'room.*'] });
    expect(await post(server, { Cookie: `${session.Cookie}; sid=2` })).toEqual({ status: 403, code: 'forbidden' });
    const other = await signToken(key, { subscribe: ['room.*'] }, { sub: 'mallory' });
    expect(await post(server, { ...session, Authorization: `Bearer ${other}` })).toEqual({ status: 403, code: 'forbidden' });
    expect(await post(server, { Cookie: `${session.Cookie}; ssehub_token=${other}` })).toEqual({ status: 403, code: 'forbidden' });
    const expired = await signToken(key, { subscribe: ['chat'] }, { expiresInS: -10 });
    expect(await post(server, { Authorization: `Bearer ${expired}` })).toEqual({ status: 401, code: 'unauthorized' });
    expect(await chatUsers(server)).toEqual([]);
  });

  it('publishes for a header or cookie token or a hook answer that may read chat, under the credential’s sub', async () => {
    const session = await chatLogin(server.url, 'Typed Name');
    const token = await signToken(key, { subscribe: ['chat'] }, { sub: 'token-user' });
    expect(await post(server, { ...session, Authorization: `Bearer ${token}` })).toEqual({ status: 201, code: null });
    expect(await post(server, { Cookie: `${session.Cookie}; ssehub_token=${token}` })).toEqual({ status: 201, code: null });
    hook.grant({ sub: 'hook-user', subscribe: ['chat'] });
    expect(await post(server, { Cookie: `${session.Cookie}; sid=3` })).toEqual({ status: 201, code: null });
    hook.grant({ subscribe: ['chat'] });
    expect(await post(server, { Cookie: `${session.Cookie}; sid=4` })).toEqual({ status: 201, code: null });
    expect((await chatUsers(server)).slice(-4)).toEqual(['token-user', 'token-user', 'hook-user', 'Typed Name']);
  });

  it('does not take a ticket for /post', async () => {
    hook.reply = () => ({ status: 401 });
    const token = await signToken(key, { subscribe: ['chat'] }, { sub: 'ticket-user' });
    const { ticket } = (await (await fetch(`${server.url}/tickets`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } })).json()) as { ticket: string };
    const response = await fetch(`${server.url}/post?ticket=${ticket}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"message":"x"}' });
    expect(response.status).toBe(401);
  });

  it("lists the hook's sub in chat presence, not the name typed into /login", async () => {
    hook.grant({ sub: 'hook-user', subscribe: ['chat'] });
    const session = await chatLogin(server.url, 'Typed Name');
    await streams.open(`${server.url}/stream`, { Cookie: `${session.Cookie}; sid=5` });
    const reader = await signToken(key, { subscribe: ['chat'] });
    const presence = await waitForPresence(server.url, (body) => body.connections === 1, 'chat', 10_000, { Authorization: `Bearer ${reader}` });
    expect(presence.members).toEqual([{ sub: 'hook-user', info: {}, connections: 1 }]);
  });
});

describe('POST /post when chat is not public and only a key is configured', () => {
  let server: Server;
  beforeAll(async () => {
    server = await startTestServer('memory', { ...key.env, PUBLIC_CHANNELS: '' });
  });
  afterAll(() => server.close());

  it('answers 401 without a credential and 201 with one that may read chat', async () => {
    const session = await chatLogin(server.url, 'Ada');
    expect(await post(server, session)).toEqual({ status: 401, code: 'unauthorized' });
    const token = await signToken(key, { subscribe: ['chat'] }, { sub: 'ada' });
    expect(await post(server, { ...session, Authorization: `Bearer ${token}` })).toEqual({ status: 201, code: null });
    expect(await chatUsers(server)).toEqual(['ada']);
  });
});

describe('POST /post when chat is public', () => {
  let server: Server;
  beforeAll(async () => {
    server = await startTestServer('memory', { ...key.env, PUBLIC_CHANNELS: 'chat' });
  });
  afterAll(() => server.close());

  it("stays open to visitors, and names a credential's sub rather than the typed name", async () => {
    const session = await chatLogin(server.url, 'Visitor');
    expect(await post(server, session)).toEqual({ status: 201, code: null });
    expect(await post(server, {})).toEqual({ status: 201, code: null });
    const token = await signToken(key, {}, { sub: 'verified' });
    expect(await post(server, { ...session, Authorization: `Bearer ${token}` })).toEqual({ status: 201, code: null });
    expect(await chatUsers(server)).toEqual(['Visitor', 'anonymous', 'verified']);
  });
});

import { SignJWT } from 'jose';
import { Hub } from '../../src/hub/hub';
import { makeKey, signToken } from '../helpers/access-tokens';
import { eventually } from '../helpers/eventually';
import { OpenStreams } from '../helpers/sse-client';
import { startTestServer, type TestServer } from '../helpers/test-server';

type Server = TestServer;

const ADMIN_TOKEN = 'admin-token-for-revocations-0123';

describe('POST /api/revoke (in-process broker)', () => {
  let server: Server;
  const streams = new OpenStreams();
  const key = makeKey('HS256');

  beforeAll(async () => {
    server = await startTestServer('memory', { ADMIN_TOKEN, ...key.env, PUBLIC_CHANNELS: '' });
  });
  afterEach(() => streams.closeAll());
  afterAll(() => server.close());

  const revoke = async (body: unknown): Promise<void> => {
    const response = await fetch(`${server.url}/api/revoke`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect([response.status, await response.json()]).toEqual([200, { ok: true }]);
  };
  /** A token of `sub` issued `ageS` seconds ago (jose's helper always stamps now). */
  const issuedAgo = (sub: string, ageS: number): Promise<string> => {
    const nowS = Math.floor(Date.now() / 1000);
    return new SignJWT({ ssehub: { subscribe: ['**'] } })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(sub)
      .setIssuedAt(nowS - ageS)
      .setExpirationTime(nowS + 300)
      .sign(key.signingKey);
  };
  const open = (jwt: string, channel = 'rv.room') => streams.open(`${server.url}/channels/${channel}/stream`, { Authorization: `Bearer ${jwt}` });

  it('revokes the tokens of a sub issued before now: the open stream gets hub.disconnect (reconnect) and ends, a new one is 401 invalid_token', async () => {
    const token = await signToken(key, { subscribe: ['**'] }, { sub: 'mallory' });
    const stream = await open(token);
    expect(stream.response?.statusCode).toBe(200);
    const bystander = await open(await signToken(key, { subscribe: ['**'] }, { sub: 'trent' }));

    await revoke({ sub: 'mallory' });

    await stream.waitForEnd();
    expect(stream.messages).toEqual([{ id: undefined, event: 'hub.disconnect', data: '{"reason":"the credential was revoked","reconnect":true}' }]);
    const again = await open(token);
    expect(again.response?.statusCode).toBe(401);
    expect(again.response?.headers['www-authenticate']).toContain('error="invalid_token"');
    expect(bystander.ended).toBe(false);
  });

  it('refuses a stream whose token is revoked after its check and before its registration (401 invalid_token, nothing left registered)', async () => {
    const token = await signToken(key, { subscribe: ['**'] }, { sub: 'racer' });
    const connect = Hub.prototype.connect;
    let proceed: () => void = () => undefined;
    const revoked = new Promise<void>((resolve) => {
      proceed = resolve;
    });
    // The token has been checked; the stream waits here, unregistered, until the revocation is in.
    const registering = jest.spyOn(Hub.prototype, 'connect').mockImplementationOnce(async function (this: Hub, request) {
      await revoked;
      return connect.call(this, request);
    });
    // The streams of earlier tests are closed by now, or soon.
    await eventually(() => server.hub.clientCount === 0, 'earlier streams to be gone');
    try {
      const opening = open(token, 'rv.race');
      await eventually(() => registering.mock.calls.length === 1, 'the stream to reach its registration');
      await revoke({ sub: 'racer' });
      proceed();
      const stream = await opening;
      expect(stream.response?.statusCode).toBe(401);
      expect(stream.response?.headers['www-authenticate']).toContain('error="invalid_token"');
      await eventually(() => server.hub.clientCount === 0, 'the registered stream to be released');
    } finally {
      registering.mockRestore();
    }
  });

  it('revokes by `before`: tokens issued earlier are refused, tokens issued after it are accepted', async () => {
    await revoke({ sub: 'oscar', before: new Date(Date.now() - 60_000).toISOString() });
    const old = await open(await issuedAgo('oscar', 120));
    expect(old.response?.statusCode).toBe(401);
    const fresh = await open(await issuedAgo('oscar', 0));
    expect(fresh.response?.statusCode).toBe(200);
  });

  it('revokes one token by jti and leaves the same sub’s other tokens working', async () => {
    const revoked = await signToken(key, { subscribe: ['**'] }, { sub: 'peggy', claims: { jti: 'token-1' } });
    const other = await signToken(key, { subscribe: ['**'] }, { sub: 'peggy', claims: { jti: 'token-2' } });
    const stream = await open(revoked);
    const otherStream = await open(other);

    await revoke({ jti: 'token-1' });

    await stream.waitForEnd();
    expect(stream.messages[0]?.event).toBe('hub.disconnect');
    expect((await open(revoked)).response?.statusCode).toBe(401);
    expect((await open(other)).response?.statusCode).toBe(200);
    expect(otherStream.ended).toBe(false);
  });

  it('refuses a ticket made from a token revoked afterwards', async () => {
    const token = await signToken(key, { subscribe: ['**'] }, { sub: 'victor' });
    const issued = await fetch(`${server.url}/tickets`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    const { ticket } = (await issued.json()) as { ticket: string };
    await revoke({ sub: 'victor' });
    const stream = await streams.open(`${server.url}/channels/rv.room/stream?ticket=${encodeURIComponent(ticket)}`);
    expect(stream.response?.statusCode).toBe(401);
  });

  it('lets ADMIN_TOKEN read a private channel and publish to it', async () => {
    const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
    const stream = await streams.open(`${server.url}/channels/rv.private/stream`, admin);
    expect(stream.response?.statusCode).toBe(200);
    const published = await fetch(`${server.url}/channels/rv.private/events`, { method: 'POST', headers: { ...admin, 'Content-Type': 'application/json' }, body: '{"data":1}' });
    expect(published.status).toBe(201);
    await stream.waitForMessages(1);
  });
});

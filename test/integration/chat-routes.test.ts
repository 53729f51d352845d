import { connect } from 'node:net';
import request from 'supertest';
import { SseClient } from '../helpers/sse-client';
import { BROKERS, startTestServer, type TestServer } from '../helpers/test-server';

interface ChatData {
  user: string;
  text: string;
  ts: string;
}

function setCookies(response: request.Response): string[] {
  const header = response.headers['set-cookie'] as unknown;
  return Array.isArray(header) ? (header as string[]) : [];
}

/** The Cookie header a browser would send back after `response`. */
function cookieJar(response: request.Response): string {
  return setCookies(response)
    .map((cookie) => cookie.split(';')[0]!)
    .join('; ');
}

function errorCode(response: request.Response): string | undefined {
  return (response.body as { error?: { code?: string } }).error?.code;
}

describe.each(BROKERS)('the chat routes on the %s broker', (broker) => {
  let server: TestServer;
  const clients: SseClient[] = [];

  beforeAll(async () => {
    server = await startTestServer(broker, { PUBLISH_TOKEN: 's3cret' });
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  afterAll(async () => {
    await server.close();
  });

  const login = async (name: string): Promise<string> => {
    const response = await request(server.url).post('/login').send({ name }).expect(200);
    return cookieJar(response);
  };

  const chatItem = async (id: string): Promise<ChatData> => {
    const response = await request(server.url).get(`/channels/chat/events?after=${Number(id) - 1}&limit=1`).expect(200);
    const [item] = (response.body as { events: Array<{ id: string; event: string; data: ChatData }> }).events;
    expect(item?.id).toBe(id);
    expect(item?.event).toBe('message');
    return item!.data;
  };

  it('serves the chat page as HTML with a Content-Security-Policy', async () => {
    const response = await request(server.url).get('/').expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(response.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
  });

  it('logs in from a form with 303 to / and an HttpOnly, SameSite=Lax session cookie', async () => {
    const response = await request(server.url).post('/login').type('form').send({ name: 'alice' });
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/');
    const cookies = setCookies(response);
    const session = cookies.find((cookie) => cookie.startsWith('ssehub.session='));
    expect(session).toBeDefined();
    expect(session).toMatch(/;\s*httponly/i);
    expect(session).toMatch(/;\s*samesite=lax/i);
    expect(session).not.toMatch(/;\s*secure/i);
    const me = await request(server.url).get('/me').set('Cookie', cookieJar(response)).expect(200);
    expect(me.body).toEqual({ name: 'alice' });
  });

  it('logs in from JSON with 200 and the trimmed name', async () => {
    const response = await request(server.url).post('/login').send({ name: '  bob  ' });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ name: 'bob' });
    expect(setCookies(response).some((cookie) => /^ssehub\.session=.*httponly/i.test(cookie))).toBe(true);
  });

  it('counts name length in code points: 32 emoji are accepted, 33 are not', async () => {
    await request(server.url).post('/login').send({ name: '😀'.repeat(32) }).expect(200, { name: '😀'.repeat(32) });
    await request(server.url).post('/login').send({ name: 'a'.repeat(32) }).expect(200);
    const tooLong = await request(server.url).post('/login').send({ name: '😀'.repeat(33) });
    expect(tooLong.status).toBe(400);
    expect(errorCode(tooLong)).toBe('invalid_name');
  });

  it.each([
    ['empty', { name: '' }],
    ['only spaces', { name: '   ' }],
    ['33 characters', { name: 'a'.repeat(33) }],
    ['missing', {}],
    ['a number', { name: 42 }],
    ['null', { name: null }],
  ])('refuses a name that is %s with 400 invalid_name', async (_, body) => {
    const response = await request(server.url).post('/login').send(body);
    expect(response.status).toBe(400);
    expect(errorCode(response)).toBe('invalid_name');
  });

  it('refuses an empty form name with 400 invalid_name', async () => {
    const response = await request(server.url).post('/login').type('form').send({ name: ' ' });
    expect(response.status).toBe(400);
    expect(errorCode(response)).toBe('invalid_name');
  });

  it('logs out from a form with 303 to / and from JSON with 204', async () => {
    const cookie = await login('carol');
    const form = await request(server.url).post('/logout').set('Cookie', cookie).type('form').send('');
    expect(form.status).toBe(303);
    expect(form.headers.location).toBe('/');
    const json = await request(server.url).post('/logout').set('Cookie', cookie).send({});
    expect(json.status).toBe(204);
  });

  it('answers a JSON logout without a body with 204', async () => {
    const cookie = await login('fern');
    const response = await request(server.url).post('/logout').set('Cookie', cookie).set('Content-Type', 'application/json');
    expect(response.status).toBe(204);
  });

  it('answers a JSON logout sent without Content-Length or body with 204', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(server.port, '127.0.0.1', () =>
        socket.write('POST /logout HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n'),
      );
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 204 /);
  });

  it('answers a logout without any body or type as a form, with 303 to /', async () => {
    const response = await request(server.url).post('/logout');
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/');
  });

  it('forgets the name after logout, so later posts are anonymous', async () => {
    const cookie = await login('dave');
    const logout = await request(server.url).post('/logout').set('Cookie', cookie).send({}).expect(204);
    const after = cookieJar(logout) || cookie;
    const me = await request(server.url).get('/me').set('Cookie', after).expect(200);
    expect(me.body).toEqual({ name: null });
    const posted = await request(server.url).post('/post').set('Cookie', after).send({ message: 'hi' }).expect(201);
    expect((await chatItem((posted.body as { id: string }).id)).user).toBe('anonymous');
  });

  it('publishes a post as event message on channel chat with the session name, and answers 201 {id}', async () => {
    const cookie = await login('erin');
    const client = await SseClient.open(`${server.url}/stream`);
    clients.push(client);
    const before = Date.now();
    const response = await request(server.url).post('/post').set('Cookie', cookie).send({ message: '  hello <b>world</b>  ' });
    expect(response.status).toBe(201);
    expect(Object.keys(response.body as object)).toEqual(['id']);
    const { id } = response.body as { id: string };
    expect(id).toMatch(/^[1-9][0-9]*$/);

    await client.waitForMessages(1);
    expect(client.messages[0]?.id).toBe(id);
    expect(client.messages[0]?.event).toBe('message');
    const data = JSON.parse(client.messages[0]!.data) as ChatData;
    expect(Object.keys(data).sort()).toEqual(['text', 'ts', 'user']);
    expect(data.user).toBe('erin');
    expect(data.text).toBe('hello <b>world</b>');
    expect(new Date(data.ts).toISOString()).toBe(data.ts);
    expect(Date.parse(data.ts)).toBeGreaterThanOrEqual(before - 1000);
    expect(await chatItem(id)).toEqual(data);
  });

  it('publishes a form post too', async () => {
    const response = await request(server.url).post('/post').type('form').send({ message: 'from a form' }).expect(201);
    const data = await chatItem((response.body as { id: string }).id);
    expect(data).toMatchObject({ user: 'anonymous', text: 'from a form' });
  });

  it('posts as anonymous without a session', async () => {
    const response = await request(server.url).post('/post').send({ message: 'who am i' }).expect(201);
    expect((await chatItem((response.body as { id: string }).id)).user).toBe('anonymous');
  });

  it('keeps line breaks inside a message', async () => {
    const response = await request(server.url).post('/post').send({ message: 'line one\nline two' }).expect(201);
    expect((await chatItem((response.body as { id: string }).id)).text).toBe('line one\nline two');
  });

  it('counts message length in code points: 2000 emoji are accepted, 2001 are not', async () => {
    const accepted = await request(server.url).post('/post').send({ message: '🎉'.repeat(2000) }).expect(201);
    expect((await chatItem((accepted.body as { id: string }).id)).text).toBe('🎉'.repeat(2000));
    const refused = await request(server.url).post('/post').send({ message: '🎉'.repeat(2001) });
    expect(refused.status).toBe(400);
    expect(errorCode(refused)).toBe('invalid_message');
  });

  it.each([
    ['empty', { message: '' }],
    ['only whitespace', { message: ' \n\t ' }],
    ['2001 characters', { message: 'm'.repeat(2001) }],
    ['missing', {}],
    ['an object', { message: { text: 'x' } }],
  ])('refuses a message that is %s with 400 invalid_message', async (_, body) => {
    const response = await request(server.url).post('/post').send(body);
    expect(response.status).toBe(400);
    expect(errorCode(response)).toBe('invalid_message');
  });

  it('does not ask for PUBLISH_TOKEN on /post, while the publish route does', async () => {
    await request(server.url).post('/post').send({ message: 'open chat' }).expect(201);
    const publish = await request(server.url).post('/channels/chat/events').send({ data: 'x' });
    expect(publish.status).toBe(401);
  });

  it.each(['/login', '/logout', '/post'])('refuses a cross-site Origin on %s with 403 cross_site', async (path) => {
    const body = path === '/login' ? { name: 'mallory' } : path === '/post' ? { message: 'spam' } : {};
    const response = await request(server.url).post(path).set('Origin', 'https://evil.example').send(body);
    expect(response.status).toBe(403);
    expect(errorCode(response)).toBe('cross_site');
    expect(setCookies(response)).toEqual([]);
  });

  it('refuses an Origin that differs from the server only in port or scheme', async () => {
    const port = new URL(server.url).port;
    for (const origin of [`http://127.0.0.1:${Number(port) + 1}`, `https://127.0.0.1:${port}`, 'null']) {
      const response = await request(server.url).post('/post').set('Origin', origin).send({ message: 'x' });
      expect(response.status).toBe(403);
    }
  });

  it('accepts a POST with the server’s own Origin and one without Origin', async () => {
    await request(server.url).post('/login').set('Origin', server.url).send({ name: 'same' }).expect(200);
    await request(server.url).post('/post').set('Origin', server.url).send({ message: 'same origin' }).expect(201);
    await request(server.url).post('/logout').set('Origin', server.url).send({}).expect(204);
    await request(server.url).post('/post').send({ message: 'no origin' }).expect(201);
  });
});

describe('chat sessions behind an HTTPS proxy (TRUST_PROXY=true)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('memory', { TRUST_PROXY: 'true' });
  });
  afterAll(async () => {
    await server.close();
  });

  it('marks the session cookie Secure when the request arrived over HTTPS', async () => {
    const response = await request(server.url).post('/login').set('X-Forwarded-Proto', 'https').send({ name: 'tls' }).expect(200);
    const session = setCookies(response).find((cookie) => cookie.startsWith('ssehub.session='));
    expect(session).toMatch(/;\s*secure/i);
    expect(session).toMatch(/;\s*httponly/i);
    expect(session).toMatch(/;\s*samesite=lax/i);
  });

  it('compares Origin with the scheme the request arrived with', async () => {
    const host = new URL(server.url).host;
    await request(server.url).post('/post').set('X-Forwarded-Proto', 'https').set('Origin', `https://${host}`).send({ message: 'ok' }).expect(201);
    const refused = await request(server.url).post('/post').set('X-Forwarded-Proto', 'https').set('Origin', `http://${host}`).send({ message: 'no' });
    expect(refused.status).toBe(403);
    expect(errorCode(refused)).toBe('cross_site');
  });
});

describe('chat sessions across SESSION_KEYS rotation', () => {
  it('accepts on a server with SESSION_KEYS=new,old a session signed by a server with SESSION_KEYS=old', async () => {
    const before = await startTestServer('memory', { SESSION_KEYS: 'old' });
    const after = await startTestServer('memory', { SESSION_KEYS: 'new,old' });
    const stranger = await startTestServer('memory', { SESSION_KEYS: 'unrelated' });
    try {
      const loginResponse = await request(before.url).post('/login').send({ name: 'rotated' }).expect(200);
      const cookie = cookieJar(loginResponse);
      expect(cookie).toMatch(/ssehub\.session\.sig=/);

      const me = await request(after.url).get('/me').set('Cookie', cookie).expect(200);
      expect(me.body).toEqual({ name: 'rotated' });
      const posted = await request(after.url).post('/post').set('Cookie', cookie).send({ message: 'still me' }).expect(201);
      const history = await request(after.url).get('/channels/chat/events?limit=1').expect(200);
      const [item] = (history.body as { events: Array<{ id: string; data: ChatData }> }).events;
      expect(item?.id).toBe((posted.body as { id: string }).id);
      expect(item?.data.user).toBe('rotated');

      const strangerMe = await request(stranger.url).get('/me').set('Cookie', cookie).expect(200);
      expect(strangerMe.body).toEqual({ name: null });
    } finally {
      await Promise.all([before.close(), after.close(), stranger.close()]);
    }
  });

  it('ignores a session cookie whose signature was tampered with', async () => {
    const server = await startTestServer('memory', { SESSION_KEYS: 'k' });
    try {
      const loginResponse = await request(server.url).post('/login').send({ name: 'honest' }).expect(200);
      const forged = cookieJar(loginResponse).replace(/ssehub\.session\.sig=[^;]*/, 'ssehub.session.sig=AAAAAAAAAAAAAAAAAAAAAAAAAAA');
      const me = await request(server.url).get('/me').set('Cookie', forged).expect(200);
      expect(me.body).toEqual({ name: null });
    } finally {
      await server.close();
    }
  });
});

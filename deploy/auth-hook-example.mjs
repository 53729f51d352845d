// An AUTH_HOOK_URL endpoint for an application with its own session cookie (no dependencies):
//   node deploy/auth-hook-example.mjs   then   AUTH_HOOK_URL=http://127.0.0.1:4000/ssehub/authorize
// The hub POSTs {"channels":[…],"headers":{"cookie":"…"}}; answer 200 with the grant, or 401 / 403.
import { createServer } from 'node:http';

// Stand-in for your session store: session id -> user.
const sessions = new Map([['s3cr3t-session-id', { id: '42', name: 'Alice', rooms: ['support'] }]]);

function sessionOf(cookieHeader = '') {
  const match = /(?:^|;\s*)app_session=([^;]+)/.exec(cookieHeader);
  return match ? sessions.get(decodeURIComponent(match[1])) : undefined;
}

createServer(async (req, res) => {
  if (req.method !== 'POST' || req.url !== '/ssehub/authorize') return res.writeHead(404).end();
  let body = '';
  for await (const chunk of req) if ((body += chunk).length > 65_536) return res.writeHead(413).end();
  let user;
  try {
    user = sessionOf(JSON.parse(body).headers?.cookie);
  } catch {
    return res.writeHead(400).end();
  }
  if (!user) return res.writeHead(401).end(); // no session: the reader gets 401
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({
    sub: user.id,
    info: { name: user.name },
    subscribe: ['user.{sub}.*', ...user.rooms.map((room) => `room.${room}`)], // 403 for any other channel
    expiresAt: new Date(Date.now() + 15 * 60_000).toISOString(), // hub.reauth, then the end: the page reconnects
  }));
}).listen(Number(process.env.PORT ?? 4000), '127.0.0.1', function () {
  console.log(`AUTH_HOOK_URL=http://127.0.0.1:${this.address().port}/ssehub/authorize`);
});

#!/usr/bin/env node
// The baseline: a bare node:http SSE server with the hub's routes, wire format and Redis layout,
// and nothing else (no framework, no metrics, no stream layers). One ioredis command connection,
// one subscriber, and literally the hub's publish.lua. Each live event is encoded once into a
// Buffer that is written to every response. (The floor, the least a Node SSE server over Redis
// can do, is floor.js: no Lua, no history.)
// `GET /streams?channel=a&channel=b…` (shared/API.md) is the same writer for several channels:
// live only, each event's `event:`/`data:` envelope encoded once and shared, and per stream only
// its cursor line (`id: a=1,b=2`, names in byte order), one cork per write.
//
// Env: PORT (0 = free), HOST, REDIS_URL, REDIS_PREFIX, HISTORY_SIZE, RETRY_MS;
//      BASELINE_PATTERN=1 subscribes once with a pattern (PSUBSCRIBE prefix:live:*) instead of
//      once per channel (the many-channels scenario's baseline).
// Prints one JSON line {"address": "http://host:port"} once listening, like the hub.
'use strict';
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { Redis } = require('ioredis');

const root = path.join(__dirname, '..');
const scriptPath = fs.existsSync(path.join(root, 'dist', 'broker', 'redis', 'publish.lua'))
  ? path.join(root, 'dist', 'broker', 'redis', 'publish.lua')
  : path.join(root, 'src', 'broker', 'redis', 'publish.lua');
const PUBLISH_LUA = fs.readFileSync(scriptPath, 'utf8');
const PUBLISH_SHA = crypto.createHash('sha1').update(PUBLISH_LUA).digest('hex');

const port = Number(process.env.PORT ?? 3001);
const host = process.env.HOST || '127.0.0.1';
const prefix = process.env.REDIS_PREFIX ?? 'ssehub:';
const historySize = Number(process.env.HISTORY_SIZE ?? 1000);
const retryFrame = Buffer.from(`retry: ${Number(process.env.RETRY_MS ?? 2000)}\n\n`);
const livePrefix = `${prefix}live:`;
const CHANNEL = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
const STORED_HEAD = /^\{"id":"([0-9]+)","event":"([^"]+)","data":/;
const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
};

const redisOptions = { lazyConnect: false, enableOfflineQueue: true, autoResubscribe: false };
const command = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', redisOptions);
const subscriber = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', redisOptions);
command.on('error', () => undefined);
subscriber.on('error', () => undefined);
const PATTERN = process.env.BASELINE_PATTERN === '1';
const subscribed = PATTERN ? subscriber.psubscribe(`${livePrefix}*`) : subscriber.ping();

/**
 * channel name → { clients: Set<res>, replaying: Map<res, Buffer-with-id[]>, ready: Promise,
 * multi: Set<{res, slot, cursor, positions}> } (multi: the /streams that follow the channel)
 */
const channels = new Map();

function keysOf(channel) {
  const base = `${prefix}{${channel}}`;
  return { counter: `${base}:id`, history: `${base}:history` };
}

function frameOf(stored) {
  const head = STORED_HEAD.exec(stored);
  if (!head) return null;
  return {
    id: Number(head[1]),
    buffer: Buffer.from(`id: ${head[1]}\nevent: ${head[2]}\ndata: ${stored.slice(head[0].length, -1)}\n\n`),
  };
}

function onMessage(name, message) {
  const channelName = name.slice(livePrefix.length);
  const channel = channels.get(channelName);
  if (!channel) return;
  const stored = message.slice(message.indexOf(' ') + 1);
  const frame = frameOf(stored);
  if (!frame) return;
  if (channel.multi.size > 0) writeMulti(channel, channelName, stored, frame.id);
  for (const res of channel.clients) {
    // A resumed client may already have this event from its history read (the reply can overtake
    // the pub/sub message), so it skips ids up to what it was sent.
    if (res.sentUpTo !== undefined && frame.id <= res.sentUpTo) continue;
    res.write(frame.buffer);
  }
  for (const queue of channel.replaying.values()) queue.push(frame);
}
subscriber.on('message', onMessage);
subscriber.on('pmessage', (_pattern, name, message) => onMessage(name, message));

/** One event to every /streams member of its channel: the envelope once, a cursor line each. */
function writeMulti(channel, name, stored, id) {
  const head = STORED_HEAD.exec(stored);
  const shared = Buffer.from(`event: ${head[2]}\ndata: {"channel":"${name}","id":"${head[1]}","data":${stored.slice(head[0].length, -1)}}\n\n`);
  for (const member of channel.multi) {
    // Skips what the stream's starting position already covers (the reply can overtake pub/sub).
    if (id <= member.positions[member.slot]) continue;
    member.positions[member.slot] = id;
    member.cursor[member.slot] = `${name}=${id}`;
    member.res.cork();
    member.res.write(`id: ${member.cursor.join(',')}\n`);
    member.res.write(shared);
    member.res.uncork();
  }
}

function channelFor(name) {
  let channel = channels.get(name);
  if (!channel) {
    const ready = PATTERN ? subscribed : subscriber.subscribe(livePrefix + name);
    channel = { clients: new Set(), replaying: new Map(), multi: new Set(), ready };
    channels.set(name, channel);
  }
  return channel;
}

async function stream(req, res, name) {
  const header = req.headers['last-event-id'];
  const resume = header && /^[0-9]{1,16}$/.test(header) ? Number(header) : null;
  const channel = channelFor(name);
  await channel.ready;
  req.socket.setNoDelay(true);
  req.socket.setTimeout(0);
  res.writeHead(200, SSE_HEADERS);
  res.write(retryFrame);
  const leave = () => {
    channel.clients.delete(res);
    channel.replaying.delete(res);
  };
  res.on('close', leave);
  if (resume === null) {
    channel.clients.add(res);
    return;
  }
  // Replay then live: queue live frames while reading history, then send what history lacked.
  const queue = [];
  channel.replaying.set(res, queue);
  // Ids in the list are consecutive: the slice after `resume` starts at resume − first id + 1.
  const historyKey = keysOf(name).history;
  const first = await command.lindex(historyKey, 0);
  const firstId = first === null ? resume + 1 : Number(STORED_HEAD.exec(first)?.[1] ?? resume + 1);
  const entries = first === null ? [] : await command.lrange(historyKey, Math.max(0, resume - firstId + 1), -1);
  let lastSent = resume;
  const parts = [];
  for (const entry of entries) {
    const frame = frameOf(entry);
    if (frame && frame.id > lastSent) {
      parts.push(frame.buffer);
      lastSent = frame.id;
    }
  }
  for (const frame of queue) {
    if (frame.id > lastSent) {
      parts.push(frame.buffer);
      lastSent = frame.id;
    }
  }
  if (res.destroyed) return;
  channel.replaying.delete(res);
  if (parts.length > 0) res.write(Buffer.concat(parts));
  res.sentUpTo = lastSent;
  channel.clients.add(res);
}

/** `GET /streams`, live only: starts each channel at its newest id, sent as the priming cursor. */
async function streamMany(req, res, names) {
  const sorted = [...new Set(names)].sort();
  const joined = sorted.map(channelFor);
  await Promise.all(joined.map((channel) => channel.ready));
  const newest = await command.mget(sorted.map((name) => keysOf(name).counter));
  if (req.socket.destroyed) return;
  const positions = newest.map((value) => Number(value ?? 0));
  const cursor = sorted.map((name, slot) => `${name}=${positions[slot]}`);
  req.socket.setNoDelay(true);
  req.socket.setTimeout(0);
  res.writeHead(200, SSE_HEADERS);
  res.write(retryFrame);
  res.write(`id: ${cursor.join(',')}\n\n`);
  const members = joined.map((channel, slot) => ({ channel, member: { res, slot, cursor, positions } }));
  for (const { channel, member } of members) channel.multi.add(member);
  res.on('close', () => {
    for (const { channel, member } of members) channel.multi.delete(member);
  });
}

function publish(req, res, name) {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return reply(res, 400, '{"error":{"code":"invalid_json","message":"not JSON"}}');
    }
    if (typeof body !== 'object' || body === null || !Object.hasOwn(body, 'data')) {
      return reply(res, 400, '{"error":{"code":"invalid_event","message":"data is required"}}');
    }
    const event = typeof body.event === 'string' ? body.event : 'message';
    const keys = keysOf(name);
    const args = [event, JSON.stringify(body.data), String(historySize), livePrefix + name, String(Date.now()), String(604_800_000), '0'];
    command
      .evalsha(PUBLISH_SHA, 2, keys.counter, keys.history, ...args)
      .catch((error) => {
        if (String(error.message).startsWith('NOSCRIPT')) {
          return command.eval(PUBLISH_LUA, 2, keys.counter, keys.history, ...args);
        }
        throw error;
      })
      .then(
        ([, id]) => reply(res, 201, `{"id":"${id}","channel":"${name}","event":"${event}"}`),
        () => reply(res, 503, '{"error":{"code":"broker_unavailable","message":"retry"}}'),
      );
  });
}

function reply(res, status, text) {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url.startsWith('/streams?')) {
    const names = new URLSearchParams(req.url.slice('/streams?'.length)).getAll('channel');
    if (names.length === 0 || !names.every((name) => CHANNEL.test(name))) {
      return reply(res, 400, '{"error":{"code":"invalid_channel","message":"bad channel"}}');
    }
    streamMany(req, res, names).catch(() => res.destroy());
    return;
  }
  const match = /^\/channels\/([^/?]+)\/(stream|events)(?:\?.*)?$/.exec(req.url);
  if (!match || !CHANNEL.test(match[1])) return reply(res, 404, '{"error":{"code":"not_found","message":"no route"}}');
  if (match[2] === 'stream' && req.method === 'GET') {
    stream(req, res, match[1]).catch(() => res.destroy());
  } else if (match[2] === 'events' && req.method === 'POST') {
    publish(req, res, match[1]);
  } else {
    reply(res, 405, '{"error":{"code":"method_not_allowed","message":"no"}}');
  }
});
server.requestTimeout = 0;
server.headersTimeout = 60_000;
server.keepAliveTimeout = 5000;

Promise.all([command.ping(), subscribed]).then(() => {
  server.listen(port, host, () => {
    const address = server.address();
    process.stdout.write(`${JSON.stringify({ msg: 'baseline listening', address: `http://${host}:${address.port}` })}\n`);
  });
});

function stop() {
  server.close();
  for (const channel of channels.values()) for (const res of channel.clients) res.end();
  server.closeAllConnections();
  Promise.allSettled([command.quit(), subscriber.quit()]).then(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

#!/usr/bin/env node
// The floor: the least a Node SSE server over Redis pub/sub can do (issue #14). A bare node:http
// server, one ioredis PSUBSCRIBE for every channel, a bare PUBLISH on POST (no Lua, no history,
// ids from an in-process counter per channel), and each event encoded once into one Buffer that
// is res.write()n to each client. Live only: no resume, no slow-client limit, no heartbeats.
// It serves the routes and wire format the load client needs:
//   GET  /channels/:channel/stream         id/event/data frames
//   GET  /streams?channel=a&channel=b…      envelope data + cursor id (shared/API.md), one cork per write
//   POST /channels/:channel/events          {"data": …, "event"?: …} → 201 {"id","channel","event"}
//
// Env: PORT (0 = free), HOST, REDIS_URL, REDIS_PREFIX, RETRY_MS.
// Prints one JSON line {"address": "http://host:port"} once listening, like the hub.
'use strict';
const http = require('node:http');
const { Redis } = require('ioredis');

const port = Number(process.env.PORT ?? 3002);
const host = process.env.HOST || '127.0.0.1';
const prefix = process.env.REDIS_PREFIX ?? 'ssehub:';
const retryFrame = Buffer.from(`retry: ${Number(process.env.RETRY_MS ?? 2000)}\n\n`);
const livePrefix = `${prefix}floor:`;
const CHANNEL = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
};

const redisOptions = { lazyConnect: false, enableOfflineQueue: true, autoResubscribe: false };
// Auto-pipelining as the hub's command connection has it: concurrent publishes share one write.
const command = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { ...redisOptions, enableAutoPipelining: true });
const subscriber = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', redisOptions);
command.on('error', () => undefined);
subscriber.on('error', () => undefined);

/** channel name → { last: newest id, single: Set<res>, multi: Set<{res, slot, cursor}> } */
const channels = new Map();

function channelFor(name) {
  let channel = channels.get(name);
  if (!channel) {
    channel = { last: 0, single: new Set(), multi: new Set() };
    channels.set(name, channel);
  }
  return channel;
}

// A message is "<id> <event> <data JSON>": the publisher's id, not Redis's, so no Lua is needed.
subscriber.on('pmessageBuffer', (_pattern, nameBuffer, message) => {
  const channel = channels.get(nameBuffer.toString('latin1', livePrefix.length));
  if (!channel) return;
  const firstSpace = message.indexOf(32);
  const secondSpace = message.indexOf(32, firstSpace + 1);
  const id = message.toString('latin1', 0, firstSpace);
  const event = message.toString('latin1', firstSpace + 1, secondSpace);
  if (channel.single.size > 0) {
    const frame = Buffer.concat([Buffer.from(`id: ${id}\nevent: ${event}\ndata: `), message.subarray(secondSpace + 1), Buffer.from('\n\n')]);
    for (const res of channel.single) res.write(frame);
  }
  if (channel.multi.size > 0) {
    const name = nameBuffer.toString('latin1', livePrefix.length);
    const shared = Buffer.concat([
      Buffer.from(`event: ${event}\ndata: {"channel":"${name}","id":"${id}","data":`),
      message.subarray(secondSpace + 1),
      Buffer.from('}\n\n'),
    ]);
    for (const member of channel.multi) {
      // The cursor: name=id of every channel of the stream, in byte order of the names.
      member.cursor[member.slot] = `${name}=${id}`;
      member.res.cork();
      member.res.write(`id: ${member.cursor.join(',')}\n`);
      member.res.write(shared);
      member.res.uncork();
    }
  }
});

function open(req, res) {
  req.socket.setNoDelay(true);
  req.socket.setTimeout(0);
  res.writeHead(200, SSE_HEADERS);
  res.write(retryFrame);
}

function streamOne(req, res, name) {
  const channel = channelFor(name);
  open(req, res);
  res.write(`id: ${channel.last}\n\n`);
  channel.single.add(res);
  res.on('close', () => channel.single.delete(res));
}

function streamMany(req, res, names) {
  const sorted = [...new Set(names)].sort();
  const cursor = sorted.map((name) => `${name}=${channelFor(name).last}`);
  const members = sorted.map((name, slot) => ({ channel: channels.get(name), member: { res, slot, cursor } }));
  open(req, res);
  res.write(`id: ${cursor.join(',')}\n\n`);
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
    const channel = channelFor(name);
    const id = ++channel.last;
    command.publish(livePrefix + name, `${id} ${event} ${JSON.stringify(body.data)}`).then(
      () => reply(res, 201, `{"id":"${id}","channel":"${name}","event":"${event}"}`),
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
    return streamMany(req, res, names);
  }
  const match = /^\/channels\/([^/?]+)\/(stream|events)(?:\?.*)?$/.exec(req.url);
  if (!match || !CHANNEL.test(match[1])) return reply(res, 404, '{"error":{"code":"not_found","message":"no route"}}');
  if (match[2] === 'stream' && req.method === 'GET') return streamOne(req, res, match[1]);
  if (match[2] === 'events' && req.method === 'POST') return publish(req, res, match[1]);
  return reply(res, 405, '{"error":{"code":"method_not_allowed","message":"no"}}');
});
server.requestTimeout = 0;
server.headersTimeout = 60_000;
server.keepAliveTimeout = 5000;

Promise.all([command.ping(), subscriber.psubscribe(`${livePrefix}*`)]).then(() => {
  server.listen(port, host, () => {
    const address = server.address();
    process.stdout.write(`${JSON.stringify({ msg: 'floor listening', address: `http://${host}:${address.port}` })}\n`);
  });
});

function stop() {
  server.close();
  server.closeAllConnections();
  Promise.allSettled([command.quit(), subscriber.quit()]).then(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

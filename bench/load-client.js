#!/usr/bin/env node
// A lean load client, run as a child process (fork) and driven by IPC messages from run.js.
// Subscribers are raw sockets (net.connect, a hand-written HTTP/1.1 request, an incremental
// chunked-transfer decoder and SSE parser), so one process can hold thousands of streams.
// Every delivery is checked while it is measured: per connection the ids must go up by exactly 1
// (a jump is loss, a repeat is a duplicate, a step back is reordering). Publishers embed
// `"t": <wall-clock ms with µs precision>` in the data; receipt − t is the delivery latency.
//
// A multi-channel stream (`GET /streams`) is checked per channel of the envelope in `data`
// ({"channel","id","data"}), and its cursor line must hold that channel's new id.
//
// Requests: {seq, cmd, ...args}; answers: {seq, ok, result | error}. Commands: connect, reset,
// stats, waitFor, verify, close, publish, ping.
'use strict';
const net = require('node:net');
const http = require('node:http');
const { performance } = require('node:perf_hooks');

/** Wall-clock ms with sub-ms precision, comparable between processes on one machine. */
const nowMs = () => performance.timeOrigin + performance.now();

/** Latency histogram: 0.01 ms buckets below 100 ms, 1 ms buckets up to 120 s. */
class Histogram {
  constructor() {
    this.fine = new Float64Array(10_000);
    this.coarse = new Float64Array(120_000);
    this.count = 0;
    this.max = 0;
    this.sum = 0;
  }
  add(ms) {
    if (!(ms >= 0)) ms = 0;
    this.count++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
    if (ms < 100) this.fine[Math.floor(ms * 100)]++;
    else this.coarse[Math.min(119_999, Math.floor(ms))]++;
  }
  percentile(p) {
    if (this.count === 0) return null;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let i = 0; i < this.fine.length; i++) {
      seen += this.fine[i];
      if (seen >= rank) return (i + 1) / 100;
    }
    for (let i = 100; i < this.coarse.length; i++) {
      seen += this.coarse[i];
      if (seen >= rank) return i + 1;
    }
    return this.max;
  }
  summary() {
    return {
      count: this.count,
      p50: this.percentile(50),
      p99: this.percentile(99),
      max: this.count ? this.max : null,
      mean: this.count ? this.sum / this.count : null,
    };
  }
}

const SIZE = 0;
const DATA = 1;
const CRLF = 2;

/** One channel as seen by one stream: its position and the ordering check's state. */
class Track {
  constructor(channel) {
    this.channel = channel;
    this.firstId = 0;
    /** The newest id received or announced (priming block); null until the first of either. */
    this.position = null;
    this.count = 0;
    this.caughtUpAt = 0;
  }
}

/**
 * One SSE stream on a raw socket, with its own ordering check per channel and its own reconnect.
 * `spec`: {channel} for `GET /channels/:channel/stream`, or {channels: [...]} for
 * `GET /streams?channel=…` (envelope data, cursor id: ids are checked per channel of the envelope).
 */
class Stream {
  constructor(pool, index, spec, resumeId) {
    this.pool = pool;
    this.index = index;
    this.multi = spec.channels !== undefined;
    this.tracks = new Map();
    for (const channel of this.multi ? spec.channels : [spec.channel]) this.tracks.set(channel, new Track(channel));
    this.single = this.multi ? null : this.tracks.get(spec.channel);
    this.path = this.multi
      ? `/streams?${spec.channels.map((channel) => `channel=${encodeURIComponent(channel)}`).join('&')}`
      : `/channels/${spec.channel}/stream`;
    this.resumeId = resumeId;
    /** The last `id:` line (a cursor) of a multi-channel stream: its Last-Event-ID on reconnect. */
    this.cursor = null;
    this.closedByUs = false;
    this.onConnected = null;
    this.open();
  }

  lastEventId() {
    if (this.multi) return this.cursor;
    return this.single.position !== null ? this.single.position : this.resumeId;
  }

  open() {
    this.headerDone = false;
    this.head = '';
    this.chunked = false;
    this.state = SIZE;
    this.sizeLine = '';
    this.remaining = 0;
    this.crlfLeft = 0;
    this.pending = '';
    const resume = this.lastEventId();
    const socket = net.connect(this.pool.port, this.pool.host);
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('connect', () => {
      socket.write(
        `GET ${this.path} HTTP/1.1\r\nHost: ${this.pool.host}:${this.pool.port}\r\n` +
          `Accept: text/event-stream\r\n${resume === null ? '' : `Last-Event-ID: ${resume}\r\n`}\r\n`,
      );
    });
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', (error) => {
      this.pool.socketErrors++;
      this.pool.lastError = error.message;
    });
    socket.on('close', () => this.onClose());
  }

  onClose() {
    if (this.closedByUs) return;
    if (!this.headerDone && this.onConnected) {
      this.pool.connectFailures++;
    }
    if (this.pool.reconnect) {
      this.pool.reconnects++;
      setTimeout(() => this.open(), 50);
    }
  }

  onData(chunk) {
    if (!this.headerDone) {
      this.head += chunk.toString('latin1');
      const end = this.head.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = this.head.slice(0, end);
      const rest = Buffer.from(this.head.slice(end + 4), 'latin1');
      this.head = '';
      this.headerDone = true;
      if (!head.startsWith('HTTP/1.1 200')) {
        this.pool.badStatus++;
        this.pool.lastError = head.split('\r\n')[0];
        this.socket.destroy();
        return;
      }
      this.chunked = /\r\ntransfer-encoding:\s*chunked/i.test(head);
      if (this.onConnected) {
        const done = this.onConnected;
        this.onConnected = null;
        done();
      }
      if (rest.length > 0) this.onBody(rest);
      return;
    }
    this.onBody(chunk);
  }

  onBody(buffer) {
    if (!this.chunked) {
      this.onText(buffer.toString('latin1'));
      return;
    }
    let i = 0;
    const length = buffer.length;
    while (i < length) {
      if (this.state === SIZE) {
        const newline = buffer.indexOf(10, i);
        if (newline === -1) {
          this.sizeLine += buffer.toString('latin1', i);
          return;
        }
        this.sizeLine += buffer.toString('latin1', i, newline);
        i = newline + 1;
        const size = parseInt(this.sizeLine, 16);
        this.sizeLine = '';
        if (size === 0) return; // last chunk: the server ended the stream
        this.remaining = size;
        this.state = DATA;
      } else if (this.state === DATA) {
        const take = Math.min(this.remaining, length - i);
        this.onText(buffer.toString('latin1', i, i + take));
        i += take;
        this.remaining -= take;
        if (this.remaining === 0) {
          this.state = CRLF;
          this.crlfLeft = 2;
        }
      } else {
        const skip = Math.min(this.crlfLeft, length - i);
        i += skip;
        this.crlfLeft -= skip;
        if (this.crlfLeft === 0) this.state = SIZE;
      }
    }
  }

  /** Splits the text into blocks (ending with a blank line) and checks each event. */
  onText(text) {
    const pool = this.pool;
    const pending = this.pending.length === 0 ? text : this.pending + text;
    pool.bytes += text.length;
    let pos = 0;
    let end;
    let now = 0;
    while ((end = pending.indexOf('\n\n', pos)) !== -1) {
      const idAt = fieldAt(pending, 'id: ', pos, end);
      if (idAt !== -1) {
        const lineEnd = pending.indexOf('\n', idAt);
        const dataAt = fieldAt(pending, 'data: ', pos, end);
        if (dataAt === -1) {
          // The priming block (id only, no data): the position the stream starts from.
          this.prime(pending.slice(idAt + 4, lineEnd));
        } else {
          if (this.multi) this.checkEnvelope(pending.slice(idAt + 4, lineEnd), pending, dataAt + 6);
          else this.check(this.single, readInteger(pending, idAt + 4));
          const t = pending.indexOf('"t":', dataAt);
          if (t !== -1 && t < end) {
            if (now === 0) now = nowMs();
            pool.latency.add(now - parseFloat(pending.substr(t + 4, 24)));
          }
        }
      } else if (fieldAt(pending, 'event: hub.gap', pos, end) !== -1) {
        pool.gapNotices++;
      }
      pos = end + 2;
    }
    this.pending = pos === 0 ? pending : pending.slice(pos);
  }

  /** `id:` of a block without data: one id, or a cursor `a=1,b=2` on a multi-channel stream. */
  prime(text) {
    if (!this.multi) {
      this.primeTrack(this.single, Number(text));
      return;
    }
    this.cursor = text;
    for (const entry of text.split(',')) {
      const equals = entry.lastIndexOf('=');
      const track = this.tracks.get(entry.slice(0, equals));
      if (track) this.primeTrack(track, Number(entry.slice(equals + 1)));
      else this.note(`priming cursor names a channel the stream does not follow: ${entry}`);
    }
    if (this.cursor.split(',').length !== this.tracks.size) this.note(`priming cursor ${text} lacks some of ${[...this.tracks.keys()]}`);
  }

  primeTrack(track, id) {
    if (track.position === null || track.position === 0) {
      track.position = id;
      return;
    }
    // On a resume the server must start exactly where this stream left off.
    if (id !== track.position) this.note(`${track.channel}: priming id ${id} but the stream had ${track.position}`);
    if (id > track.position) {
      this.pool.missing += id - track.position;
      track.position = id;
    }
  }

  /** An event of a multi-channel stream: the envelope's channel and id, and the cursor around it. */
  checkEnvelope(cursor, text, at) {
    this.cursor = cursor;
    if (!text.startsWith('{"channel":"', at)) return this.note(`not an envelope: ${text.slice(at, at + 60)}`);
    const nameEnd = text.indexOf('"', at + 12);
    const channel = text.slice(at + 12, nameEnd);
    if (!text.startsWith('","id":"', nameEnd)) return this.note(`envelope without id: ${text.slice(at, at + 80)}`);
    const id = readInteger(text, nameEnd + 8);
    const track = this.tracks.get(channel);
    if (!track) return this.note(`event of ${channel}, which the stream does not follow`);
    if (!`,${cursor},`.includes(`,${channel}=${id},`)) this.note(`cursor ${cursor} does not hold ${channel}=${id}`);
    this.check(track, id);
    return undefined;
  }

  check(track, id) {
    const pool = this.pool;
    pool.received++;
    if (track.count === 0) track.firstId = id;
    track.count++;
    const last = track.position;
    if (last !== null && last > 0 && id !== last + 1) {
      if (id === last) pool.duplicates++;
      else if (id < last) pool.reordered++;
      else pool.missing += id - last - 1;
      if (pool.examples.length < 5) pool.examples.push(`conn ${this.index} ${track.channel}: id ${id} after ${last}`);
    }
    if (last === null || id > last) track.position = id;
    if (track.caughtUpAt === 0 && pool.catchUpId !== null && id >= pool.catchUpId) {
      track.caughtUpAt = nowMs();
    }
  }

  note(problem) {
    this.pool.protocolErrors++;
    if (this.pool.examples.length < 5) this.pool.examples.push(`conn ${this.index}: ${problem}`);
  }

  close() {
    this.closedByUs = true;
    this.socket.destroy();
  }
}

/** Where `field` starts as a line of the block [pos, end), or -1. */
function fieldAt(text, field, pos, end) {
  if (text.startsWith(field, pos)) return pos;
  const at = text.indexOf(`\n${field}`, pos);
  return at !== -1 && at < end ? at + 1 : -1;
}

function readInteger(text, at) {
  let value = 0;
  for (let i = at, c = text.charCodeAt(i); c >= 48 && c <= 57; c = text.charCodeAt(++i)) value = value * 10 + (c - 48);
  return value;
}

/** All streams of this process, on one target. */
class Pool {
  constructor() {
    this.streams = [];
    this.reset();
    this.resetErrors();
  }
  reset() {
    this.received = 0;
    this.bytes = 0;
    this.latency = new Histogram();
    this.windowStart = nowMs();
    this.cpuStart = process.cpuUsage();
  }
  resetErrors() {
    this.duplicates = 0;
    this.reordered = 0;
    this.missing = 0;
    this.gapNotices = 0;
    this.protocolErrors = 0;
    this.socketErrors = 0;
    this.connectFailures = 0;
    this.badStatus = 0;
    this.reconnects = 0;
    this.examples = [];
    this.lastError = null;
    this.catchUpId = null;
  }
  *tracks() {
    for (const stream of this.streams) yield* stream.tracks.values();
  }
}

const pool = new Pool();

/**
 * Opens `count` streams: all on `channel`; or stream i on `channels[i % n]` (a channel each);
 * or stream i on the channel set `sets[i % n]` over `GET /streams`.
 */
async function connect({ url, channel, channels, sets, count, resumeId = null, concurrency = 200, catchUpId = null }) {
  const target = new URL(url);
  pool.host = target.hostname;
  pool.port = Number(target.port);
  pool.reconnect = true;
  pool.catchUpId = catchUpId;
  const specOf = (i) => (sets ? { channels: sets[i % sets.length] } : { channel: channels ? channels[i % channels.length] : channel });
  const startedAt = nowMs();
  let next = 0;
  let connected = 0;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`only ${connected}/${count} streams connected within 60 s (${pool.lastError ?? 'no error'})`)),
      60_000,
    );
    const openOne = () => {
      if (next >= count) return;
      const stream = new Stream(pool, pool.streams.length, specOf(next), resumeId);
      next++;
      pool.streams.push(stream);
      stream.onConnected = () => {
        connected++;
        if (connected === count) {
          clearTimeout(timer);
          resolve();
        } else openOne();
      };
    };
    for (let i = 0; i < Math.min(concurrency, count); i++) openOne();
    if (count === 0) resolve();
  });
  return { connectMs: nowMs() - startedAt, startedAt };
}

function stats() {
  const elapsedMs = nowMs() - pool.windowStart;
  const cpu = process.cpuUsage(pool.cpuStart);
  return {
    elapsedMs,
    received: pool.received,
    bytes: pool.bytes,
    eventsPerSecond: (pool.received / elapsedMs) * 1000,
    latency: pool.latency.summary(),
    clientCpuSeconds: (cpu.user + cpu.system) / 1e6,
    errors: errors(),
  };
}

function errors() {
  return {
    duplicates: pool.duplicates,
    reordered: pool.reordered,
    missing: pool.missing,
    gapNotices: pool.gapNotices,
    protocolErrors: pool.protocolErrors,
    connectFailures: pool.connectFailures,
    badStatus: pool.badStatus,
    reconnects: pool.reconnects,
    socketErrors: pool.socketErrors,
    examples: pool.examples,
  };
}

/**
 * The newest id each channel should reach: `ranges` ({channel: {first, last}}, from the
 * publisher) or, for streams on one channel, `id`.
 */
const targetOf = (ranges, id) => (track) => (ranges ? (ranges[track.channel]?.last ?? null) : id);

/** Resolves when every stream has, on every channel, the newest id (or reports after `timeoutMs`). */
async function waitFor({ id, ranges, timeoutMs = 20_000 }) {
  const startedAt = nowMs();
  const target = targetOf(ranges, id);
  for (;;) {
    let behind = 0;
    for (const stream of pool.streams) {
      for (const track of stream.tracks.values()) {
        const want = target(track);
        if (want !== null && (track.position ?? 0) < want) {
          behind++;
          break;
        }
      }
    }
    if (behind === 0) return { waitedMs: nowMs() - startedAt, behind: 0 };
    if (nowMs() - startedAt > timeoutMs) return { waitedMs: nowMs() - startedAt, behind };
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Checks every stream received exactly first..last of each of its channels (`ranges`, or
 * `firstId`/`lastId` for streams on one channel); a channel nobody published to must have no event.
 */
function verify({ firstId, lastId, ranges }) {
  let wrongStart = 0;
  let wrongEnd = 0;
  const examples = [];
  for (const stream of pool.streams) {
    let badStart = false;
    let badEnd = false;
    const seen = [];
    for (const track of stream.tracks.values()) {
      const range = ranges ? ranges[track.channel] : { first: firstId, last: lastId };
      const got = track.count === 0 ? 'nothing' : `${track.firstId}..${track.position} (${track.count} events)`;
      if (!range) {
        if (track.count !== 0) badEnd = true;
        seen.push(`${track.channel}: ${got}, expected nothing`);
        continue;
      }
      if (track.firstId !== range.first) badStart = true;
      if (track.position !== range.last || track.count === 0) badEnd = true;
      seen.push(`${track.channel}: ${got}, expected ${range.first}..${range.last}`);
    }
    if (badStart) wrongStart++;
    if (badEnd) wrongEnd++;
    if ((badStart || badEnd) && examples.length < 5) examples.push(`conn ${stream.index}: ${seen.join('; ')}`);
  }
  const caught = [...pool.tracks()].map((track) => track.caughtUpAt).filter((at) => at > 0);
  return { streams: pool.streams.length, wrongStart, wrongEnd, examples, caughtUpAtMax: caught.length ? Math.max(...caught) : null, caughtUp: caught.length, errors: errors() };
}

function closeAll() {
  pool.reconnect = false;
  for (const stream of pool.streams) stream.close();
  const closed = pool.streams.length;
  pool.streams = [];
  pool.reset();
  pool.resetErrors();
  return { closed };
}

/** Pads the data so that each event's data JSON is about `dataBytes` long. */
function makeBody(seq, dataBytes) {
  const head = `{"data":{"t":${nowMs().toFixed(3)},"seq":${seq},"pad":"`;
  const padLength = Math.max(0, dataBytes - (head.length - 8) - 3);
  return `${head}${'x'.repeat(padLength)}"}}`;
}

/**
 * Publishes for `durationMs` to `channel`, or to `channels` in turn: at `rate` events/s, or as
 * fast as the server answers when `rate` is 0, with `concurrency` requests in flight on keep-alive
 * connections. Returns per channel the first and last id answered (`ranges`), and whether each
 * channel's answered ids are consecutive.
 */
async function publish({ url, channel, channels = [channel], rate = 0, durationMs, count = Infinity, concurrency = 8, dataBytes = 200, warmupMs = 0 }) {
  const target = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latency = new Histogram();
  let sent = 0;
  let ok = 0;
  let failed = 0;
  let minId = Infinity;
  let maxId = 0;
  const ranges = {};
  let windowOk = 0;
  let lastError = null;
  const startedAt = nowMs();
  const windowStart = startedAt + warmupMs;
  const send = () =>
    new Promise((resolve) => {
      const name = channels[sent % channels.length];
      const body = makeBody(sent++, dataBytes);
      const requestStart = nowMs();
      const request = http.request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          method: 'POST',
          path: `/channels/${name}/events`,
          headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
        },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (part) => (text += part));
          response.on('end', () => {
            const doneAt = nowMs();
            if (response.statusCode === 201) {
              ok++;
              const id = Number(/"id":"(\d+)"/.exec(text)?.[1]);
              if (id < minId) minId = id;
              if (id > maxId) maxId = id;
              const range = ranges[name];
              if (!range) ranges[name] = { first: id, last: id, ok: 1 };
              else {
                if (id < range.first) range.first = id;
                if (id > range.last) range.last = id;
                range.ok++;
              }
              if (requestStart >= windowStart) {
                windowOk++;
                latency.add(doneAt - requestStart);
              }
            } else {
              failed++;
              lastError = `${response.statusCode} ${text.slice(0, 120)}`;
            }
            resolve();
          });
        },
      );
      request.on('error', (error) => {
        failed++;
        lastError = error.message;
        resolve();
      });
      request.end(body);
    });

  const endAt = startedAt + durationMs;
  if (rate === 0) {
    const loop = async () => {
      while (nowMs() < endAt && sent < count) await send();
    };
    await Promise.all(Array.from({ length: concurrency }, loop));
  } else {
    const inFlight = new Set();
    while (nowMs() < endAt && sent < count) {
      const due = Math.min(count, Math.floor(((nowMs() - startedAt) / 1000) * rate));
      while (sent < due && inFlight.size < concurrency * 4) {
        const pending = send();
        inFlight.add(pending);
        void pending.then(() => inFlight.delete(pending));
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await Promise.all(inFlight);
  }
  agent.destroy();
  const windowMs = Math.max(1, nowMs() - windowStart);
  return {
    sent,
    ok,
    failed,
    lastError,
    minId: ok > 0 ? minId : null,
    maxId: ok > 0 ? maxId : null,
    ranges,
    gappedChannels: Object.entries(ranges)
      .filter(([, range]) => range.last - range.first + 1 !== range.ok)
      .map(([name]) => name),
    requestsPerSecond: (windowOk / Math.min(windowMs, durationMs - warmupMs)) * 1000,
    latency: latency.summary(),
  };
}

const commands = {
  ping: () => ({ pid: process.pid }),
  connect,
  reset: () => {
    pool.reset();
    return { ok: true };
  },
  stats,
  waitFor,
  verify,
  close: closeAll,
  publish,
};

process.on('message', (message) => {
  const handler = commands[message.cmd];
  Promise.resolve()
    .then(() => {
      if (!handler) throw new Error(`unknown command ${message.cmd}`);
      return handler(message.args ?? {});
    })
    .then(
      (result) => process.send({ seq: message.seq, ok: true, result }),
      (error) => process.send({ seq: message.seq, ok: false, error: error.message }),
    );
});
process.on('disconnect', () => process.exit(0));

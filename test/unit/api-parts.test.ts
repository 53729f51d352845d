import { parseBroadcast, parseRevoke } from '../../src/api/orders';
import { RevocationSet } from '../../src/api/revocation-set';
import { readConfig } from '../../src/config';
import { ConfigError } from '../../src/errors';
import { Metrics } from '../../src/metrics';
import { StatsSampler, type Clock } from '../../src/stats/stats-sampler';

describe('ADMIN_TOKEN and REVOCATION_TTL_S', () => {
  it('refuses an ADMIN_TOKEN shorter than 16 characters with one line naming it, without echoing it', () => {
    expect(() => readConfig({ ADMIN_TOKEN: 'short-secret' })).toThrow(ConfigError);
    expect(() => readConfig({ ADMIN_TOKEN: 'short-secret' })).toThrow(/^ADMIN_TOKEN=.* at least 16 characters/);
    expect(() => readConfig({ ADMIN_TOKEN: 'short-secret' })).not.toThrow(/short-secret/);
  });

  it('reads ADMIN_TOKEN (unset = undefined) and REVOCATION_TTL_S (default 30 days)', () => {
    expect(readConfig({}).adminToken).toBeUndefined();
    expect(readConfig({}).revocationTtlS).toBe(2_592_000);
    expect(readConfig({ ADMIN_TOKEN: 'a'.repeat(16), REVOCATION_TTL_S: '60' })).toMatchObject({ adminToken: 'a'.repeat(16), revocationTtlS: 60 });
    expect(() => readConfig({ REVOCATION_TTL_S: '0' })).toThrow(/REVOCATION_TTL_S/);
  });
});

describe('RevocationSet', () => {
  const claims = (sub: string | null, issuedAtMs: number | null, jti: string | null = null) => ({ sub, issuedAtMs, jti });

  it('covers tokens of a sub issued before the time, and those without iat, not later ones', () => {
    const set = new RevocationSet(60_000, () => 10_000);
    set.add({ sub: 'a', beforeMs: 5000 });
    expect(set.covers(claims('a', 4000))).toBe(true);
    expect(set.covers(claims('a', null))).toBe(true);
    expect(set.covers(claims('a', 5000))).toBe(false);
    expect(set.covers(claims('b', 4000))).toBe(false);
    expect(set.covers(claims(null, null))).toBe(false);
  });

  it('covers one jti, and forgets every revocation after its TTL', () => {
    let now = 0;
    const set = new RevocationSet(1000, () => now);
    set.add({ jti: 'x' });
    set.add({ sub: 'a', beforeMs: 0 });
    expect(set.covers(claims('z', 1, 'x'))).toBe(true);
    now = 1000;
    expect(set.covers(claims('z', 1, 'x'))).toBe(false);
    expect(set.covers(claims('a', null))).toBe(false);
    set.add({ jti: 'y' });
    expect(set.size).toBe(1);
  });
});

describe('server API orders', () => {
  it('refuses a broadcast to more than 1000 channels', () => {
    const channels = Array.from({ length: 1001 }, (_, index) => `c${index}`);
    expect(() => parseBroadcast({ channels, data: 1 }, JSON.stringify({ channels, data: 1 }))).toThrow(/1 to 1000/);
  });

  it('keeps the broadcast data exactly as sent (numbers beyond double precision included)', () => {
    const text = '{"channels":["a"],"data":{"n":12345678901234567890}}';
    expect(parseBroadcast(JSON.parse(text), text).input).toEqual({ event: 'message', dataJson: '{"n":12345678901234567890}' });
  });

  it('takes `before` as an ISO time, default now', () => {
    expect(parseRevoke({ sub: 'a' }, 42)).toEqual({ sub: 'a', beforeMs: 42 });
    expect(parseRevoke({ sub: 'a', before: '2026-12-01T10:00:00Z' }, 42)).toEqual({ sub: 'a', beforeMs: Date.parse('2026-12-01T10:00:00Z') });
    expect(() => parseRevoke({ sub: 'a', before: 1764583200000 }, 42)).toThrow(/ISO time/);
  });
});

describe('StatsSampler', () => {
  it('reports publishes and deliveries per second as the counters grow between ticks, on an injected clock', async () => {
    let now = 1_000_000;
    const timers: Array<() => void> = [];
    const clock: Clock = { now: () => now, setTimer: (callback) => timers.push(callback), clearTimer: () => undefined };
    const metrics = new Metrics();
    const hub = { clientCount: 3, channelCount: 2 };
    const sampler = new StatsSampler({ hub, broker: { ready: true }, metrics, clock, id: 'test', version: '1.2.3' });
    await sampler.sample();
    metrics.eventsPublished.inc(10);
    metrics.eventsDelivered.inc(40);
    now += 2000;
    const report = await sampler.sample();
    expect(report).toEqual({
      id: 'test',
      startedAt: new Date(1_000_000).toISOString(),
      version: '1.2.3',
      configFingerprint: '',
      connections: 3,
      channels: 2,
      publishedPerSecond: 5,
      deliveredPerSecond: 20,
      droppedSlow: 0,
      gapsRepaired: 0,
      eventLoopLagMs: 0,
      broker: 'ready',
    });
    expect(sampler.latest).toBe(report);
  });

  it('measures the event-loop lag as how late its tick ran', async () => {
    let now = 0;
    let fire: (() => void) | undefined;
    const clock: Clock = { now: () => now, setTimer: (callback) => (fire = callback), clearTimer: () => undefined };
    const sampler = new StatsSampler({ hub: { clientCount: 0, channelCount: 0 }, broker: { ready: false }, metrics: new Metrics(), clock });
    const reported = new Promise((resolve) => sampler.onReport(resolve));
    sampler.start();
    now = 1250;
    fire?.();
    expect(await reported).toMatchObject({ eventLoopLagMs: 250, broker: 'down' });
    sampler.close();
  });
});

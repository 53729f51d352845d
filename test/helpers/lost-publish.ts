import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Redis from 'ioredis';

const publishScript = readFileSync(join(__dirname, '../../src/broker/redis/publish.lua'), 'utf8');

/**
 * Stores an event exactly as a publish does (the real publish script), but announces it on a
 * pub/sub channel nobody hears: a hole in live delivery that only history can fill.
 * Returns the event's id.
 */
export async function publishWithLostMessage(redis: Redis, redisPrefix: string, channel: string, data: unknown): Promise<string> {
  const base = `${redisPrefix}{${channel}}`;
  const [, id] = (await redis.eval(
    publishScript,
    2,
    `${base}:id`,
    `${base}:history`,
    'message',
    JSON.stringify(data),
    '1000',
    `${redisPrefix}nobody-listens`,
    String(Date.now()),
    '0',
    '0',
  )) as [number, string];
  return id;
}

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Writes `document` as a CHANNELS_CONFIG JSON file in a fresh temporary directory; returns its path. */
export function writeChannelsConfig(document: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'ssehub-channels-')), 'channels.json');
  writeFileSync(path, JSON.stringify(document));
  return path;
}

/** The namespaces the integration tests run against: one per option. */
export const TEST_NAMESPACES = {
  namespaces: [
    { pattern: 'priv.*', public: false },
    { pattern: 'eph.*', public: true, history: 0 },
    { pattern: 'small.*', public: true, history: 2, maxEventBytes: 100 },
    { pattern: 'short.*', public: true, historyTtl: 1 },
    {
      pattern: 'typed.*',
      public: true,
      strict: true,
      events: {
        tick: {
          type: 'object',
          properties: { price: { type: 'number' }, symbol: { type: 'string' } },
          required: ['price', 'symbol'],
          additionalProperties: false,
        },
      },
    },
    { pattern: 'pres.*', public: true, presence: true },
    { pattern: 'open.*', public: true },
  ],
};

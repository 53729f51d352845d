import { writeChannelsConfig } from '../helpers/channels-config';
import { startTestServer, type TestServer } from '../helpers/test-server';

const ADMIN_TOKEN = 'fingerprint-admin-token-0123';

async function statsOf(server: TestServer): Promise<Array<{ configFingerprint: string }>> {
  const response = await fetch(`${server.url}/api/stats`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
  expect(response.status).toBe(200);
  return ((await response.json()) as { instances: Array<{ configFingerprint: string }> }).instances;
}

describe('GET /api/stats and CHANNELS_CONFIG', () => {
  const servers: TestServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  it("shows each instance's CHANNELS_CONFIG fingerprint, so instances loading different files stand out", async () => {
    const withFile = await startTestServer('memory', {
      ADMIN_TOKEN,
      CHANNELS_CONFIG: writeChannelsConfig({ namespaces: [{ pattern: 'ticks.*', history: 5 }] }),
    });
    servers.push(withFile);
    expect(withFile.channelsFingerprint).toMatch(/^[0-9a-f]{12}$/);
    expect((await statsOf(withFile)).map((instance) => instance.configFingerprint)).toEqual([withFile.channelsFingerprint]);

    const withoutFile = await startTestServer('memory', { ADMIN_TOKEN });
    servers.push(withoutFile);
    expect((await statsOf(withoutFile)).map((instance) => instance.configFingerprint)).toEqual(['']);
  });
});

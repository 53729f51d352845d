import type { SseClient, SseMessage } from './sse-client';
import { eventually } from './eventually';

/** The body of `GET /channels/:channel/presence`. */
export interface PresenceBody {
  readonly channel: string;
  readonly connections: number;
  readonly members: ReadonlyArray<{ sub: string; info: Record<string, unknown>; connections: number }>;
}

/** Signs a chat name in over JSON and returns the Cookie header that carries the session. */
export async function chatLogin(baseUrl: string, name: string): Promise<Record<string, string>> {
  const response = await fetch(`${baseUrl}/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  if (response.status !== 200) throw new Error(`login answered ${response.status}`);
  const cookies = response.headers.getSetCookie().map((cookie) => cookie.split(';')[0]);
  return { Cookie: cookies.join('; ') };
}

export async function readPresence(baseUrl: string, channel = 'chat'): Promise<PresenceBody> {
  const response = await fetch(`${baseUrl}/channels/${channel}/presence`);
  if (response.status !== 200) throw new Error(`presence answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as PresenceBody;
}

/** Polls the presence route until `predicate` holds (the effect of a background write), or fails. */
export async function waitForPresence(
  baseUrl: string,
  predicate: (body: PresenceBody) => boolean,
  channel = 'chat',
  timeoutMs = 10_000,
  headers: Record<string, string> = {},
): Promise<PresenceBody> {
  return eventually(
    async () => {
      // A 503 (the broker reconnecting) counts as "not yet".
      const response = await fetch(`${baseUrl}/channels/${channel}/presence`, { headers });
      const last = response.status === 200 ? ((await response.json()) as PresenceBody) : `${response.status} ${await response.text()}`;
      if (typeof last === 'string' || !predicate(last)) throw new Error(`presence never matched; last: ${JSON.stringify(last)}`);
      return last;
    },
    `the presence of ${channel} to match`,
    { timeoutMs, intervalMs: 20 },
  );
}

/** The joins and leaves a stream received, as "join Alice" / "leave Alice". */
export function signals(client: SseClient): string[] {
  return client.messages
    .filter((message) => message.event === 'hub.join' || message.event === 'hub.leave')
    .map((message) => `${message.event.slice(4)} ${(JSON.parse(message.data) as { sub: string }).sub}`);
}

export function signalData(message: SseMessage): { channel: string; sub: string; info: unknown } {
  return JSON.parse(message.data) as { channel: string; sub: string; info: unknown };
}

/** Summary of members for comparisons: "sub×connections". */
export function memberList(body: PresenceBody): string[] {
  return body.members.map((member) => `${member.sub}×${member.connections}`);
}

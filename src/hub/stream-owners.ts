import type { HubChannel } from './channel';
import type { HubClient } from './client';
import { ANONYMOUS_OWNER, type StreamOwner } from './stream-owner';

/** Chooses streams by their owner and channels (the server API's disconnect and revoke). */
export type OwnerMatch = (owner: StreamOwner, channels: readonly string[]) => boolean;

/**
 * Who opened each open stream (its credential's claims, set once at connect), so an operator's
 * order can end a user's streams. Kept beside the hub's registry, never read per event.
 */
export class StreamOwners {
  private readonly owners = new WeakMap<HubClient, StreamOwner>();

  set(client: HubClient, owner: StreamOwner | undefined): void {
    if (owner !== undefined) this.owners.set(client, owner);
  }

  /**
   * Writes `frame` (an encoded event without id, such as `hub.disconnect`) to every open stream
   * of `clients` that `matches` accepts, then ends it gracefully. Returns how many it ended.
   * A pass over the streams: an operator's action, not per event.
   */
  disconnect(clients: Iterable<HubClient>, matches: OwnerMatch, frame: Buffer): number {
    let ended = 0;
    for (const client of [...clients]) {
      if (client.closed) continue;
      const channels = client.streamChannels.map((stream) => stream.channel);
      if (!matches(this.owners.get(client) ?? ANONYMOUS_OWNER, channels)) continue;
      client.write(frame);
      client.end();
      ended++;
    }
    return ended;
  }
}

/** Every channel with streams and how many streams (live or replaying) follow it. */
export function channelConnections(channels: Iterable<HubChannel>): Array<[channel: string, connections: number]> {
  const counts: Array<[string, number]> = [];
  for (const channel of channels) counts.push([channel.name, channel.streamCount]);
  return counts;
}

import type { Batch, HubChannel } from './channel';
import type { ChannelFrame } from './frames';

/**
 * Writes a channel's batch to its live streams and returns how many streams got it. Each item is
 * encoded once per form. Single-channel streams share one buffer; multi-channel streams add
 * their cursor lines, and streams whose cursors agree outside this channel share their bytes.
 */
export function fanOut(channel: HubChannel, batch: Batch, nowMs: number): number {
  const items = batch.items;
  const lastKey = items[items.length - 1]?.key;
  if (lastKey === undefined) return 0;
  const firstKey = items[0]?.key ?? lastKey;
  let singleBuffer: Buffer | undefined;
  let envelopeBuffer: Buffer | undefined;
  let multiBuffers: Map<string, { buffer: Buffer; entry: string | undefined }> | undefined;
  let writes = 0;
  for (const stream of channel.liveStreams) {
    const lastSentKey = stream.lastSentKey;
    if (lastSentKey >= lastKey) continue;
    // A stream that already has the batch's beginning (it went live during this turn).
    if (lastSentKey >= firstKey) {
      stream.writeItems(itemsAfter(items, lastSentKey));
    } else if (stream.framing === 'single') {
      singleBuffer ??= items.length === 1 ? (items[0] as ChannelFrame).single : Buffer.concat(items.map((item) => item.single));
      stream.client.write(singleBuffer, nowMs);
      stream.advanceTo(lastKey);
    } else if (!stream.hasCursorEntry) {
      // An ephemeral channel's items carry no id and no cursor: one envelope buffer for all.
      envelopeBuffer ??= items.length === 1 ? (items[0] as ChannelFrame).multi : Buffer.concat(items.map((item) => item.multi));
      stream.client.write(envelopeBuffer, nowMs);
      stream.advanceTo(lastKey);
    } else {
      multiBuffers ??= new Map();
      const client = stream.client;
      const [before, after] = client.cursorContext(stream.index);
      const key = `${before}\n${after}`;
      const shared = multiBuffers.get(key);
      if (shared) {
        client.write(shared.buffer, nowMs);
        if (shared.entry !== undefined) client.setEntry(stream.index, shared.entry);
      } else {
        const buffer = client.encodeMulti(stream.index, items);
        multiBuffers.set(key, { buffer, entry: lastEntry(items) });
        client.write(buffer, nowMs);
      }
      stream.advanceTo(lastKey);
    }
    writes++;
  }
  return writes;
}

function itemsAfter(items: readonly ChannelFrame[], lastSentKey: number): ChannelFrame[] {
  return items.filter((item) => item.key > lastSentKey);
}

function lastEntry(items: readonly ChannelFrame[]): string | undefined {
  for (let index = items.length - 1; index >= 0; index--) {
    const item = items[index] as ChannelFrame;
    if (item.eventId !== null) return item.entry;
  }
  return undefined;
}

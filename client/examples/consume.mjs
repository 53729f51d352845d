#!/usr/bin/env node
// Follows channels of an ssehub and prints every event once, surviving restarts: the cursor is
// kept in a file, so a restarted run continues right after the last event the previous one printed.
//
//   node client/examples/consume.mjs http://127.0.0.1:3000 ./cursor.txt orders.eu user.42
//
// Prints "<channel> <id> <event> <data as JSON>" per event (id "-" on an ephemeral channel) and
// "gap <channel> <lastEventId>" where the hub's history no longer had the events. It ends when
// the hub disconnects it for good (POST /api/disconnect without reconnect). Stop it with Ctrl-C or SIGTERM: it saves
// its cursor on the way out. (Outside this repository, import from '@ssehub/client' and
// '@ssehub/client/node' instead of the relative paths.)
import { DisconnectedError, SseHubClient } from '../dist/index.js';
import { fileCursorStore } from '../dist/node.js';

const [baseUrl, cursorFile, ...channels] = process.argv.slice(2);
if (!baseUrl || !cursorFile || channels.length === 0) {
  console.error('usage: consume.mjs <hub url> <cursor file> <channel> [<channel>...]');
  process.exit(2);
}

const hub = new SseHubClient({ baseUrl });
const sub = hub.subscribe(channels, { cursorStore: fileCursorStore(cursorFile) });
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => sub.close());
sub.on('state', (state, error) => console.error(`state ${state}${error ? `: ${error.message}` : ''}`));

try {
  for await (const item of sub) {
    if (item.kind === 'event') console.log(`${item.channel} ${item.id ?? '-'} ${item.event} ${JSON.stringify(item.data)}`);
    else if (item.kind === 'gap') console.log(`gap ${item.channel} ${item.lastEventId}`);
  }
} catch (error) {
  if (!(error instanceof DisconnectedError)) throw error;
  console.error(`disconnected by the hub: ${error.reason}`);
  process.exitCode = 3;
}
await sub.flush();

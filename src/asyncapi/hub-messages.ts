/**
 * The parts of the AsyncAPI document that do not depend on CHANNELS_CONFIG: the wire format's
 * description, the hub's own events (`hub.*`) and the `/streams` envelope (API.md, "Events on
 * the wire", "Several channels on one stream").
 */

/** How one event travels on a single-channel stream; every channel message refers to it. */
export const WIRE_FORMAT = [
  'On `GET /channels/{channel}/stream` (Server-Sent Events) each event is one block:',
  '`id: <decimal id in the channel>` (absent on an ephemeral channel), `event: <event name>`,',
  '`data: <the payload as JSON on one line>`, then a blank line. Resume with `Last-Event-ID`.',
  'On `GET /streams` the same event arrives wrapped in the envelope of the `streams` channel.',
  'Published with `POST /channels/{channel}/events` and the body `{"event": "<name>", "data": <payload>}`.',
].join(' ');

const NULLABLE_STRING = { type: ['string', 'null'] };

/** The hub's own events (names starting with `hub.`): no `id:`, never stored. */
export const HUB_MESSAGES = {
  hubGap: {
    name: 'hub.gap',
    summary: 'Events after lastEventId are lost; the retained ones from firstAvailableId follow.',
    contentType: 'application/json',
    payload: {
      type: 'object',
      properties: { channel: { type: 'string', description: 'only on /streams' }, lastEventId: NULLABLE_STRING, firstAvailableId: NULLABLE_STRING },
      required: ['lastEventId', 'firstAvailableId'],
    },
  },
  hubJoin: {
    name: 'hub.join',
    summary: 'A subscriber (sub) opened its first stream on a presence channel.',
    contentType: 'application/json',
    payload: { $ref: '#/components/schemas/presenceChange' },
  },
  hubLeave: {
    name: 'hub.leave',
    summary: 'A subscriber (sub) closed its last stream on a presence channel.',
    contentType: 'application/json',
    payload: { $ref: '#/components/schemas/presenceChange' },
  },
  hubReauth: {
    name: 'hub.reauth',
    summary: 'The credential expires at expiresAt; renew it and resume, or the stream ends then.',
    contentType: 'application/json',
    payload: { type: 'object', properties: { expiresAt: { type: 'string', format: 'date-time' } }, required: ['expiresAt'] },
  },
} as const;

export const PRESENCE_CHANGE_SCHEMA = {
  type: 'object',
  properties: { channel: { type: 'string' }, sub: { type: 'string' }, info: { type: ['object', 'null'] } },
  required: ['channel', 'sub'],
};

/** The `/streams` envelope: the `data:` of every event on a multi-channel stream. */
export const ENVELOPE_MESSAGE = {
  name: 'envelope',
  title: 'An event of one of the stream\'s channels',
  summary: 'The SSE `event:` is the event\'s own name; `id:` is the stream\'s cursor.',
  description: [
    'Each event on `GET /streams?channel=a&channel=b` carries its own name in `event:`, and in',
    '`data:` this envelope: its channel, its id in that channel (`null` on an ephemeral',
    'channel) and its payload, as described by the channel\'s message of that name. The `id:`',
    'line is the cursor: `name=id` for every channel of the stream, in ascending byte order of',
    'the names, joined by `,` (no entry for ephemeral channels); resume with it in `Last-Event-ID`.',
  ].join(' '),
  contentType: 'application/json',
  payload: {
    type: 'object',
    properties: {
      channel: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$' },
      id: { type: ['string', 'null'], pattern: '^[0-9]+$' },
      data: { description: 'the payload, as the channel\'s message of the same event name describes it' },
    },
    required: ['channel', 'id', 'data'],
  },
};

import type { Namespace, Namespaces } from '../namespaces/namespaces';
import { rebaseRefs, type JsonSchema } from '../namespaces/schema-bundle';
import { ENVELOPE_MESSAGE, HUB_MESSAGES, PRESENCE_CHANGE_SCHEMA, WIRE_FORMAT } from './hub-messages';

/** What the document needs besides the namespaces. */
export interface AsyncApiOptions {
  /** The package's version (`info.version`). */
  readonly version: string;
}

/** An AsyncAPI 3.0.0 document as plain JSON. */
export type AsyncApiDocument = { readonly asyncapi: '3.0.0' } & JsonSchema;

const ANY_JSON = { description: 'any JSON value' };
const HUB_MESSAGE_REFS = Object.fromEntries(Object.keys(HUB_MESSAGES).map((key) => [key, { $ref: `#/components/messages/${key}` }]));

/** An identifier AsyncAPI accepts as a map key (`^[A-Za-z0-9_.-]+$`) derived from any name. */
function keyOf(text: string): string {
  return text.replace(/\*\*/g, 'rest').replace(/\*/g, 'any').replace(/[^A-Za-z0-9_-]/g, '_');
}

interface ChannelAddress {
  readonly address: string;
  readonly parameters: Record<string, { description: string }>;
}

/** `user.*.inbox` → `user.{segment2}.inbox`; a trailing `**` → `{rest}` (one or more segments). */
export function addressOf(namespace: Namespace): ChannelAddress {
  const parameters: Record<string, { description: string }> = {};
  const parts = namespace.pattern.segments.map((segment, index) => {
    if (segment.kind === 'literal') return segment.text;
    const name = `segment${index + 1}`;
    parameters[name] = { description: `segment ${index + 1} of the channel name: any one segment (letters, digits, _ : -)` };
    return `{${name}}`;
  });
  if (namespace.pattern.openEnded) {
    const name = parts.length === 0 ? 'channel' : 'rest';
    parameters[name] = { description: 'one or more segments of the channel name, joined by "."' };
    parts.push(`{${name}}`);
  }
  return { address: parts.join('.'), parameters };
}

function describeOptions(namespace: Namespace): string {
  const options = [
    `pattern \`${namespace.pattern.source}\``,
    namespace.history === undefined ? undefined : namespace.history === 0 ? 'ephemeral (no history, no ids)' : `history ${namespace.history}`,
    namespace.historyTtl === undefined ? undefined : `history kept ${namespace.historyTtl} s after the last publish (0 = never expires)`,
    namespace.public === undefined ? undefined : namespace.public ? 'public' : 'needs a credential to read',
    namespace.presence === true ? 'presence tracked' : undefined,
    namespace.maxEventBytes === undefined ? undefined : `publish bodies up to ${namespace.maxEventBytes} bytes`,
    namespace.strict ? 'only the listed events may be published' : undefined,
  ].filter((part) => part !== undefined);
  return [namespace.description, `${options.join('; ')}.`].filter((part) => part !== undefined).join(' ');
}

/** The event's schema, embedded at `#/components/schemas/<key>` with its own `#` refs rebased there. */
function payloadSchema(schema: JsonSchema, key: string): unknown {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  void _schema;
  void _id;
  return rebaseRefs(rest, `#/components/schemas/${key}`);
}

interface Built {
  readonly channels: JsonSchema;
  readonly operations: JsonSchema;
  readonly schemas: JsonSchema;
}

function addChannel(built: Built, key: string, channel: JsonSchema, eventMessages: JsonSchema): void {
  built.channels[key] = { ...channel, messages: { ...eventMessages, ...HUB_MESSAGE_REFS } };
  const ref = { $ref: `#/channels/${key}` };
  const messageRefs = (names: string[]): { $ref: string }[] => names.map((name) => ({ $ref: `#/channels/${key}/messages/${name}` }));
  built.operations[`receive_${key}`] = {
    action: 'receive',
    channel: ref,
    summary: 'GET /channels/{channel}/stream (Server-Sent Events); also part of GET /streams',
    messages: messageRefs([...Object.keys(eventMessages), ...Object.keys(HUB_MESSAGE_REFS)]),
  };
  built.operations[`publish_${key}`] = {
    action: 'send',
    channel: ref,
    summary: 'POST /channels/{channel}/events with {"event": name, "data": payload}',
    messages: messageRefs(Object.keys(eventMessages)),
  };
}

function eventMessagesOf(namespace: Namespace, key: string, schemas: JsonSchema): JsonSchema {
  const messages: JsonSchema = {};
  for (const [name, contract] of namespace.events) {
    const schemaKey = `${key}.${keyOf(name)}`;
    schemas[schemaKey] = payloadSchema(contract.schema, schemaKey);
    messages[keyOf(name)] = { name, title: name, contentType: 'application/json', description: WIRE_FORMAT, payload: { $ref: `#/components/schemas/${schemaKey}` } };
  }
  if (!namespace.strict || namespace.events.size === 0) {
    messages.anyEvent = {
      name: 'anyEvent',
      title: namespace.events.size === 0 ? 'Any event' : 'Any other event',
      summary: 'An event of any publishable name (the SSE `event:`, default `message`) whose payload is any JSON.',
      contentType: 'application/json',
      description: WIRE_FORMAT,
      payload: ANY_JSON,
    };
  }
  return messages;
}

/**
 * The AsyncAPI 3.0.0 document of this hub (API.md, "The events' contract"): one channel per
 * namespace (address = its pattern, each `*` / `**` a parameter), a message per listed event
 * whose payload is the event's schema, the hub's own events, the `/streams` envelope, and
 * `receive` / `send` operations for the SSE routes and publishing. Without namespaces, one
 * channel `{channel}` whose messages are any JSON. Pure; build once at start and serve the JSON.
 */
export function buildAsyncApiDocument(namespaces: Namespaces, options: AsyncApiOptions): AsyncApiDocument {
  const built: Built = { channels: {}, operations: {}, schemas: { presenceChange: PRESENCE_CHANGE_SCHEMA } };
  const used = new Set<string>();
  for (const namespace of namespaces.list) {
    let key = keyOf(namespace.pattern.source);
    if (used.has(key)) key = `${key}_${namespace.index}`;
    used.add(key);
    const { address, parameters } = addressOf(namespace);
    const channel: JsonSchema = { address, title: namespace.pattern.source, description: describeOptions(namespace) };
    if (Object.keys(parameters).length > 0) channel.parameters = parameters;
    addChannel(built, key, channel, eventMessagesOf(namespace, key, built.schemas));
  }
  if (namespaces.list.length === 0 || !namespaces.list.some((namespace) => namespace.pattern.openEnded && namespace.pattern.segments.length === 0)) {
    const fallback = namespaces.list.length === 0 ? 'Every channel.' : 'Every channel no namespace above matches: it follows the environment settings.';
    addChannel(
      built,
      'anyChannel',
      { address: '{channel}', title: 'any channel', description: fallback, parameters: { channel: { description: 'a channel name: ^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$' } } },
      { anyEvent: { name: 'anyEvent', title: 'Any event', contentType: 'application/json', description: WIRE_FORMAT, payload: ANY_JSON } },
    );
  }
  built.channels.streams = {
    address: null,
    title: 'GET /streams',
    description: 'Several channels on one stream: GET /streams?channel=a&channel=b. Every event comes wrapped in the envelope.',
    messages: { envelope: ENVELOPE_MESSAGE, ...HUB_MESSAGE_REFS },
  };
  built.operations.receive_streams = {
    action: 'receive',
    channel: { $ref: '#/channels/streams' },
    summary: 'GET /streams?channel=…&channel=… (Server-Sent Events)',
    messages: ['envelope', ...Object.keys(HUB_MESSAGE_REFS)].map((name) => ({ $ref: `#/channels/streams/messages/${name}` })),
  };
  const info: JsonSchema = {
    title: 'ssehub',
    version: options.version,
    description: 'Server-Sent Events hub: id-tagged events, replay after reconnect. ' + WIRE_FORMAT,
  };
  if (namespaces.fingerprint !== null) info['x-ssehub-config-fingerprint'] = namespaces.fingerprint;
  return {
    asyncapi: '3.0.0',
    info,
    defaultContentType: 'application/json',
    channels: built.channels,
    operations: built.operations,
    components: { schemas: built.schemas, messages: HUB_MESSAGES },
  };
}


import { parseCursor, formatCursor } from './cursor.js';
import { AbortedError, DisconnectedError, SseHubError } from './errors.js';
import { NetworkSource } from './network-source.js';
import type { ItemSource, SequencedItem, SourceContext, SourceFactory } from './source.js';
import type { ConnectionState } from './types.js';

/**
 * `share: 'tabs'`: the tabs of one origin that follow the same channels hold one stream between
 * them. The tab holding a Web Lock reads the stream and posts every batch on a
 * BroadcastChannel; every tab (that one too) runs its own ordering over the batches, with its
 * own cursor. When the holder closes or freezes, the lock passes to a waiting tab, which
 * connects from its own position: ids let each tab drop what it has and fill what it lacks.
 */

interface LockManagerLike {
  request(name: string, options: { signal?: AbortSignal }, callback: () => Promise<void>): Promise<unknown>;
}

interface BroadcastChannelLike {
  postMessage(message: unknown): void;
  close(): void;
  onmessage: ((event: { data: unknown }) => void) | null;
}

type BroadcastChannelConstructor = new (name: string) => BroadcastChannelLike;

type TabMessage =
  | { readonly type: 'items'; readonly items: SequencedItem[] }
  | { readonly type: 'state'; readonly state: ConnectionState }
  | { readonly type: 'failure'; readonly status: number; readonly code: string; readonly message: string; readonly reason?: string }
  | { readonly type: 'hello' };

/** Items kept for a tab that does not take them; past it, later events refill from history. */
const MAX_INBOX_ITEMS = 10_000;

/** A shared source where Web Locks and BroadcastChannel exist, else the tab's own stream. */
export const tabSource: SourceFactory = (context) => {
  const locks = (globalThis as unknown as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
  const Channel = (globalThis as unknown as { BroadcastChannel?: BroadcastChannelConstructor }).BroadcastChannel;
  if (locks === undefined || Channel === undefined) return new NetworkSource(context);
  return new TabSource(context, locks, Channel);
};

class TabSource implements ItemSource {
  private readonly name: string;
  private readonly broadcast: BroadcastChannelLike;
  private readonly inbox: SequencedItem[] = [];
  /** Positions of everything that entered the inbox: where this tab's stream starts if it leads. */
  private readonly seen = new Map<string, string>();
  private wake: (() => void) | undefined;
  private failure: SseHubError | undefined;
  private leadership: AbortController | undefined;
  private requesting = false;
  private state: ConnectionState = 'connecting';
  private readonly undoLifecycle: () => void;

  constructor(
    private readonly context: SourceContext,
    private readonly locks: LockManagerLike,
    Channel: BroadcastChannelConstructor,
  ) {
    this.name = `ssehub-client:${context.transport.url('/streams', context.channels.map((channel) => ['channel', channel] as const))}`;
    this.broadcast = new Channel(this.name);
    this.broadcast.onmessage = (event) => this.receive(event.data as TabMessage);
    this.undoLifecycle = this.watchLifecycle();
    context.signal.addEventListener('abort', () => this.wake?.(), { once: true });
    this.broadcast.postMessage({ type: 'hello' } satisfies TabMessage);
    this.requestLead();
  }

  async next(): Promise<SequencedItem[]> {
    for (;;) {
      if (this.context.signal.aborted) throw new AbortedError('subscription closed');
      if (this.failure !== undefined) throw this.failure;
      if (this.inbox.length > 0) return this.inbox.splice(0);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /** The leader reads on regardless: other tabs depend on it. */
  suspend(): void {}

  /** A history read failed: the next batch or a later leader's stream fills the hole. */
  reconnect(): void {}

  close(): void {
    this.leadership?.abort();
    this.undoLifecycle();
    this.broadcast.onmessage = null;
    this.broadcast.close();
    this.wake?.();
  }

  private receive(message: TabMessage): void {
    if (this.leadership !== undefined) {
      if (message.type === 'hello') this.broadcast.postMessage({ type: 'state', state: this.state } satisfies TabMessage);
      return;
    }
    if (message.type === 'items') this.take(message.items);
    else if (message.type === 'state') this.setState(message.state);
    else if (message.type === 'failure') {
      this.fail(message.reason !== undefined ? new DisconnectedError(message.reason) : new SseHubError(message.message, message.status, message.code));
    }
  }

  private requestLead(): void {
    if (this.context.signal.aborted || this.requesting) return;
    this.requesting = true;
    const leadership = new AbortController();
    this.locks
      .request(this.name, { signal: this.context.signal }, async () => {
        if (this.context.signal.aborted) return;
        this.leadership = leadership;
        // Settles as soon as leadership is given up (in the same task as a `freeze` event), not
        // when the stream's teardown finishes: a tab about to freeze must release the lock first.
        const givenUp = new Promise<void>((resolve) => leadership.signal.addEventListener('abort', () => resolve(), { once: true }));
        await Promise.race([this.lead(leadership.signal), givenUp]);
        this.leadership = undefined;
      })
      .catch(() => undefined)
      .finally(() => {
        this.requesting = false;
      });
  }

  /** Holds the stream until this tab closes or freezes, or the stream fails for good. */
  private async lead(signal: AbortSignal): Promise<void> {
    const stop = new AbortController();
    const abort = (): void => stop.abort();
    signal.addEventListener('abort', abort, { once: true });
    this.context.signal.addEventListener('abort', abort, { once: true });
    const network = new NetworkSource({
      ...this.context,
      signal: stop.signal,
      cursor: () => this.startCursor(),
      onState: (state, error) => {
        this.setState(state, error);
        this.broadcast.postMessage({ type: 'state', state } satisfies TabMessage);
      },
    });
    try {
      for (;;) {
        const items = await network.next();
        this.broadcast.postMessage({ type: 'items', items } satisfies TabMessage);
        this.take(items);
      }
    } catch (error) {
      if (!stop.signal.aborted && error instanceof SseHubError) {
        const reason = error instanceof DisconnectedError ? error.reason : undefined;
        this.broadcast.postMessage({ type: 'failure', status: error.status, code: error.code, message: error.message, reason } satisfies TabMessage);
        this.fail(error);
      }
    } finally {
      network.close();
    }
  }

  /** The later of this tab's ordered positions and what reached its inbox, per channel. */
  private startCursor(): string {
    const positions = parseCursor(this.context.cursor());
    for (const [channel, position] of this.seen) {
      const known = positions.get(channel);
      if (known === undefined || Number(position) > Number(known)) positions.set(channel, position);
    }
    return formatCursor(positions, this.context.channels);
  }

  private take(items: SequencedItem[]): void {
    for (const item of items) {
      if (item.type === 'event') {
        if (item.id !== null) this.seen.set(item.channel, item.id);
      }
      else if (item.type === 'gap') {
        this.seen.set(item.channel, item.firstAvailableId === null ? '0' : String(Math.max(0, Number(item.firstAvailableId) - 1)));
      }
      else if (item.type === 'positions') {
        for (const [channel, position] of item.positions) if (!this.seen.has(channel)) this.seen.set(channel, position);
      }
    }
    // Dropping is safe: the next event of a channel shows the hole, and the ordering fills it from history.
    const room = MAX_INBOX_ITEMS - this.inbox.length;
    this.inbox.push(...(items.length <= room ? items : items.slice(0, Math.max(0, room))));
    this.wake?.();
  }

  private setState(state: ConnectionState, error?: SseHubError): void {
    this.state = state;
    this.context.onState(state, error);
  }

  private fail(error: SseHubError): void {
    this.failure = error;
    this.wake?.();
  }

  /** A frozen tab must not hold the stream: it lets go, and asks again when it resumes. */
  private watchLifecycle(): () => void {
    const document = (globalThis as { document?: { addEventListener(type: string, listener: () => void): void; removeEventListener(type: string, listener: () => void): void } }).document;
    if (document === undefined) return () => undefined;
    const onFreeze = (): void => this.leadership?.abort();
    const onResume = (): void => this.requestLead();
    document.addEventListener('freeze', onFreeze);
    document.addEventListener('resume', onResume);
    return () => {
      document.removeEventListener('freeze', onFreeze);
      document.removeEventListener('resume', onResume);
    };
  }
}

import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One call the hook received: its parsed body and the Content-Type it came with. */
export interface HookCall {
  readonly contentType: string;
  readonly body: { channels: string[]; headers: Record<string, string> };
}

/** What the hook answers a call: a status and a body (an object is sent as JSON), or `hang` to never answer. */
export type HookReply = { status: number; body?: unknown } | 'hang';

/**
 * A real application authorization endpoint on port 0 for tests: records every call and answers
 * with `reply` (replaceable between steps). Hanging calls are released by `close()`.
 */
export class HookServer {
  readonly calls: HookCall[] = [];
  reply: (call: HookCall) => HookReply = () => ({ status: 401 });
  private readonly hanging: ServerResponse[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<HookServer> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const hook = new HookServer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/authorize`);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void hook.handle(req, res));
    return hook;
  }

  /** A URL on which nothing listens (a port that was just free). */
  static async unreachableUrl(): Promise<string> {
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    server.close();
    await once(server, 'close');
    return `http://127.0.0.1:${port}/authorize`;
  }

  /** Answers every call with 200 and `answer`. */
  grant(answer: Record<string, unknown>): void {
    this.reply = () => ({ status: 200, body: answer });
  }

  /** Answers every call left hanging so far with `reply`. */
  release(reply: { status: number; body?: unknown }): void {
    for (const res of this.hanging.splice(0)) {
      res.writeHead(reply.status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(reply.body ?? {}));
    }
  }

  async close(): Promise<void> {
    for (const res of this.hanging.splice(0)) res.destroy();
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const call: HookCall = { contentType: req.headers['content-type'] ?? '', body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as HookCall['body'] };
    this.calls.push(call);
    const reply = this.reply(call);
    if (reply === 'hang') {
      this.hanging.push(res);
      return;
    }
    const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {});
    res.writeHead(reply.status, { 'Content-Type': 'application/json' });
    res.end(text);
  }
}

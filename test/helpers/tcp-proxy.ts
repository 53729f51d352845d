import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a local server, for tests that need a network drop: `cut()` resets
 * every open connection and refuses new ones until `restore()`; `freeze()` goes silent instead,
 * as a partition does. It also keeps what clients sent,
 * so a test can check the requests a browser made (for example its `Last-Event-ID` header).
 */
export class TcpProxy {
  /** Bytes each accepted connection sent towards the server, decoded as latin1, in accept order. */
  readonly requests: string[] = [];
  private readonly sockets = new Set<Socket>();
  private refusing = false;
  private frozen = false;

  private constructor(
    private readonly server: Server,
    private readonly targetPort: number,
  ) {}

  /** Listens on a free port of 127.0.0.1 and forwards to `targetPort` on 127.0.0.1. */
  static async start(targetPort: number): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy(server, targetPort);
    server.on('connection', (socket) => proxy.accept(socket));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Resets every proxied connection and refuses new ones until `restore()`. */
  cut(): void {
    this.refusing = true;
    for (const socket of this.sockets) reset(socket);
    this.sockets.clear();
  }

  /** Silently stops forwarding, like a network partition: no reset, no close, until `cut()`. */
  freeze(): void {
    this.frozen = true;
    for (const socket of this.sockets) {
      socket.unpipe();
      socket.pause();
    }
  }

  /** Accepts and forwards new connections again. */
  restore(): void {
    this.refusing = false;
    this.frozen = false;
  }

  /** Cuts every connection and stops listening. */
  async close(): Promise<void> {
    this.cut();
    const closed = once(this.server, 'close');
    this.server.close();
    await closed;
  }

  private accept(client: Socket): void {
    if (this.refusing) {
      reset(client);
      return;
    }
    if (this.frozen) {
      this.sockets.add(client);
      client.on('error', () => undefined);
      client.pause();
      return;
    }
    const index = this.requests.push('') - 1;
    const upstream = connect(this.targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.setNoDelay(true);
      // Either side failing or closing takes the other down, as a real network path would.
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => {
      this.requests[index] += chunk.toString('latin1');
    });
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

/** Ends a connection with a TCP reset, like a dropped network path, or just destroys it. */
function reset(socket: Socket): void {
  // On Node 20 a reset of a half-closed socket (its peer already sent FIN) never closes its
  // handle, which then keeps the process alive: such a socket is only destroyed.
  if (socket.readyState !== 'open') {
    socket.destroy();
    return;
  }
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

import { once } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { freePort } from './redis-server';

/** A TCP proxy to a target port that a test can cut (refusing connections) and restore. */
export interface ToggleProxy {
  readonly port: number;
  /** Destroys every proxied connection and refuses new ones until `restore()`. */
  cut(): Promise<void>;
  /** Silently stops forwarding, like a network partition: no close, no reset. */
  freeze(): void;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startToggleProxy(targetPort: number): Promise<ToggleProxy> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let frozen = false;

  const listen = async (): Promise<void> => {
    const next = createServer((client) => {
      if (frozen) {
        sockets.add(client);
        client.on('close', () => sockets.delete(client));
        client.on('error', () => undefined);
        return;
      }
      const upstream = createConnection({ port: targetPort, host: '127.0.0.1' });
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    next.listen(port, '127.0.0.1');
    await once(next, 'listening');
    server = next;
  };

  const freeze = (): void => {
    frozen = true;
    for (const socket of sockets) {
      socket.unpipe();
      socket.pause();
    }
  };

  const cut = async (): Promise<void> => {
    frozen = false;
    const running = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    if (running) {
      running.close();
      await once(running, 'close');
    }
  };

  await listen();
  return { port, cut, freeze, restore: listen, close: cut };
}

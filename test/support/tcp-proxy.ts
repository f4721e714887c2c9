import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy of a test's own between the app and a shared server (PostgreSQL, Redis), so the
 * test can make that server "go away" without touching it (never stop or restart the shared
 * services).
 */
export interface TcpProxy {
  port: number;
  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string;
  /** Like a server that went away: drops every connection and refuses new ones. */
  cut(): Promise<void>;
  /**
   * Like a server that hangs: connections stay open but nothing passes any more, and new ones
   * are accepted and never answered.
   */
  stall(): void;
  /** Back to normal, on the same port (stalled connections are dropped). */
  restore(): Promise<void>;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream?: Socket;
}

export async function startTcpProxy(
  targetPort: number,
  targetHost = '127.0.0.1',
): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let stalled = false;
  const server: Server = createServer((client) => {
    const pair: Pair = { client };
    pairs.add(pair);
    client.on('close', () => {
      pairs.delete(pair);
      pair.upstream?.destroy();
    });
    client.on('error', () => undefined);
    if (stalled) return client.pause(); // accepted, never answered
    const upstream = connect(targetPort, targetHost);
    pair.upstream = upstream;
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const dropAll = () => {
    for (const { client, upstream } of pairs) {
      client.destroy();
      upstream?.destroy();
    }
  };
  const stopListening = () =>
    new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));

  await listen(0);
  const port = (server.address() as { port: number }).port;
  return {
    port,
    via(url) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    async cut() {
      const closed = stopListening();
      dropAll();
      await closed;
    },
    stall() {
      stalled = true;
      for (const { client, upstream } of pairs) {
        client.unpipe();
        upstream?.unpipe();
        client.pause();
        upstream?.pause();
      }
    },
    async restore() {
      if (stalled) {
        stalled = false;
        dropAll();
      }
      if (!server.listening) await listen(port);
    },
    async close() {
      const closed = stopListening();
      dropAll();
      await closed;
    },
  };
}

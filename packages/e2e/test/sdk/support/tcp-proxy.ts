import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A plain TCP forwarder that a test can take off the network and bring back on the same port: while it
 * refuses, new connections get ECONNREFUSED and connections that were open are cut, exactly what a client
 * sees when the server's host is unreachable. Nothing above TCP is touched.
 */
export interface TcpProxy {
  readonly port: number;
  /** Stops listening and cuts every open connection. */
  refuse(): Promise<void>;
  /** Listens again on the same port. */
  accept(): Promise<void>;
  close(): Promise<void>;
}

/** Listens on `port` (every local address, IPv4 and IPv6) and forwards each connection to `target`. */
export async function startTcpProxy(port: number, target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;

  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };

  const forward = (client: Socket) => {
    const upstream = connect(target.port, target.host);
    track(client);
    track(upstream);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    // `pipe` passes a clean end on; a side that goes away takes the other with it (the client side
    // gracefully, so a response already written is still delivered).
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.end());
    client.pipe(upstream);
    upstream.pipe(client);
  };

  const accept = async () => {
    if (server) return;
    const next = createServer(forward);
    next.listen(port);
    await once(next, 'listening');
    server = next;
  };

  const refuse = async () => {
    const current = server;
    server = undefined;
    if (!current) return;
    const closed = new Promise<void>((resolve) => current.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };

  await accept();
  return { port, accept, refuse, close: refuse };
}

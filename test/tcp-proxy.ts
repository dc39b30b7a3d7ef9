import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { EventLog } from './helpers.ts';

/** A loopback TCP proxy that a test can cut and restore, to make a database "go away" and come back. */
export class TcpProxy {
  private server: Server | undefined;
  private sockets = new Set<Socket>();
  port = 0;

  private targetHost: string;
  private targetPort: number;

  /** Sees every chunk a client sends, before it is forwarded (a test reads the startup packet with it). */
  private tap: ((chunk: Buffer, client: Socket) => void) | undefined;

  constructor(targetHost: string, targetPort: number, tap?: (chunk: Buffer, client: Socket) => void) {
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    this.tap = tap;
  }

  /** Connections turned away while refusing (see `refuse`), one entry each: a test waits on them. */
  readonly refused = new EventLog<number>();
  private refusing = false;

  async start(): Promise<void> {
    this.refusing = false;
    if (this.server) return;
    const server = createServer((client) => {
      if (this.refusing) {
        client.destroy();
        this.refused.push(Date.now());
        return;
      }
      const upstream = this.connect(client);
      this.sockets.add(client).add(upstream);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  private connect(client: Socket): Socket {
    const upstream = createConnection(this.targetPort, this.targetHost);
    const tap = this.tap;
    if (tap) client.on('data', (chunk: Buffer) => tap(chunk, client));
    client.pipe(upstream).pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    return upstream;
  }

  /** Listens but drops every connection at once, so a test can see each attempt; `start` forwards again. */
  async refuse(): Promise<void> {
    await this.start();
    this.refusing = true;
  }

  /** Refuses new connections and drops open ones. */
  async cut(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }
}

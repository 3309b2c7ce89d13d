/**
 * A loopback TCP proxy a test controls: put it between one terminal and the server to cut that
 * terminal off (existing connections dropped, new ones refused) while everything else stays up, or
 * to hold back what the server sends (the terminal's link stays up, its cache goes stale), or to move
 * it to another server instance (as a load balancer does when an instance goes away).
 */
import net from 'node:net';

export class TcpProxy {
  private server: net.Server;
  private sockets = new Set<net.Socket>();
  private up = true;
  /** While set, bytes from the server wait here instead of reaching the terminal. */
  private held: Array<{ client: net.Socket; chunk: Buffer }> | null = null;
  port = 0;

  private constructor(private targetPort: number) {
    this.server = net.createServer((client) => {
      if (!this.up) {
        client.destroy();
        return;
      }
      const upstream = net.connect(this.targetPort, '127.0.0.1');
      this.sockets.add(client);
      this.sockets.add(upstream);
      const done = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', done).on('close', done);
      upstream.on('error', done).on('close', done);
      client.pipe(upstream);
      upstream.on('data', (chunk: Buffer) => {
        if (this.held) this.held.push({ client, chunk });
        else client.write(chunk);
      });
    });
  }

  static async start(targetPort: number): Promise<TcpProxy> {
    const p = new TcpProxy(targetPort);
    await new Promise<void>((resolve) => p.server.listen(0, '127.0.0.1', resolve));
    p.port = (p.server.address() as net.AddressInfo).port;
    return p;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Drop every connection through the proxy and refuse new ones. */
  cut(): void {
    this.up = false;
    this.held = this.held ? [] : null;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  restore(): void {
    this.up = true;
  }

  /**
   * Send new connections to `port` from now on (another server instance), and drop the current
   * ones, as a load balancer does when it moves clients: the terminal reconnects, to the new target.
   * Whether new connections are accepted (cut/restore) is unchanged; holding (hold) ends, and what
   * was held back is dropped with its connection.
   */
  retarget(port: number): void {
    this.targetPort = port;
    this.held = null;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  /** Hold back everything the server sends from now on (the terminal's frames still go through). */
  hold(): void {
    this.held ??= [];
  }

  /** Deliver what was held back, in order, and stop holding. */
  release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const { client, chunk } of held) if (!client.destroyed) client.write(chunk);
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * The simulated network between terminal cores and the server's hub. Each link carries frames in
 * order (as TCP does) and only when the simulation says so; the simulation can delay (by not
 * delivering), duplicate pushes and results (as re-sends do), reset links (frames already sent
 * may still reach the server), and partition a terminal (a silent black hole that only the
 * heartbeat notices).
 */
import type { PeerHandle, SyncHub } from '../../src-server/sync/hub.js';
import type { Dialer, LinkEvents } from '../../src-main/core/sync-client.js';

/** WebSocket control frames travel too: the server's heartbeat ping, and the pong a client's socket sends back by itself. */
type ToServer = { kind: 'frame'; text: string } | { kind: 'close' } | { kind: 'pong' };
type ToClient = { kind: 'frame'; text: string } | { kind: 'close'; code: number; reason: string } | { kind: 'ping' };

export class SimLink {
  clientOpen = true;
  serverOpen = true;
  blackholed = false;
  toServer: ToServer[] = [];
  toClient: ToClient[] = [];
  handle!: PeerHandle;
  /** The hub (server instance) that accepted it. */
  hub!: SyncHub;

  constructor(
    readonly id: number,
    readonly terminalId: string,
    readonly events: LinkEvents,
  ) {}

  pending(): number {
    return this.toServer.length + this.toClient.length;
  }
}

export interface Faults {
  /** Chance that a delivered push or results frame is delivered again. */
  duplicate: number;
  /** Chance that a frame in flight still reaches the server after its link was reset. */
  late: number;
  /**
   * Duplicate frames of every type, both ways (acks, pings, pongs, change pages, errors too), not
   * only pushes and results; the handshake is left alone (a second hello is a protocol error).
   */
  duplicateAll?: boolean;
}

/** Where the load balancer sends a new link (several server instances); null when none answers. */
export type Route = (terminalId: string) => { hub: SyncHub; name: string } | null;

export class SimNetwork {
  hub: SyncHub | null = null;
  /** Several instances: where each new link goes (instead of `hub`). */
  route: Route | null = null;
  /** Told of every frame handed to a server (the PostgreSQL world counts re-sends across instances). */
  onServerFrame: ((link: SimLink, text: string) => void) | null = null;
  links: SimLink[] = [];
  readonly partitioned = new Set<string>();
  private nextId = 1;

  constructor(
    private readonly rng: () => number,
    private readonly faults: Faults,
    private readonly trace: (line: string) => void,
  ) {}

  dialer(terminalId: string): Dialer {
    return (events) => {
      if (this.partitioned.has(terminalId)) return Promise.reject(new Error('host unreachable'));
      const target = this.route ? this.route(terminalId) : this.hub ? { hub: this.hub, name: '' } : null;
      if (!target) return Promise.reject(new Error('host unreachable'));
      const hub = target.hub;
      const link = new SimLink(this.nextId++, terminalId, events);
      link.hub = hub;
      this.links.push(link);
      link.handle = hub.accept(
        {
          get bufferedAmount() {
            return link.toClient.reduce((n, e) => n + (e.kind === 'frame' ? e.text.length : 0), 0);
          },
          send: (text) => {
            if (link.serverOpen && !link.blackholed) link.toClient.push({ kind: 'frame', text });
          },
          close: (code, reason) => this.serverClose(link, code, reason),
          terminate: () => this.serverClose(link, 1006, 'terminated'),
          ping: () => {
            if (link.serverOpen && !link.blackholed) link.toClient.push({ kind: 'ping' });
          },
        },
        `sim:${terminalId}`,
      );
      this.trace(`link ${link.id} opened by ${terminalId}${target.name ? ` to instance ${target.name}` : ''}`);
      return Promise.resolve({
        send: (text: string) => {
          if (link.clientOpen && !link.blackholed) link.toServer.push({ kind: 'frame', text });
        },
        close: () => this.clientClose(link),
      });
    };
  }

  private clientClose(link: SimLink): void {
    if (!link.clientOpen) return;
    link.clientOpen = false;
    link.toClient = [];
    if (!link.blackholed) link.toServer.push({ kind: 'close' });
  }

  private serverClose(link: SimLink, code: number, reason: string): void {
    if (!link.serverOpen) return;
    link.serverOpen = false;
    link.toServer = [];
    link.handle.closed();
    if (!link.blackholed) link.toClient.push({ kind: 'close', code, reason });
  }

  /** A reset: the terminal sees the close at once; frames it already sent may still arrive. */
  reset(link: SimLink): void {
    if (!link.clientOpen && !link.serverOpen) return;
    this.trace(`link ${link.id} of ${link.terminalId} reset`);
    const wasOpen = link.clientOpen;
    link.clientOpen = false;
    link.toClient = [];
    // TCP delivers a prefix of what was sent, never a stream with a hole in it.
    let keep = 0;
    while (keep < link.toServer.length && link.toServer[keep]!.kind === 'frame' && this.rng() < this.faults.late) keep++;
    link.toServer = link.toServer.slice(0, keep);
    if (link.serverOpen) link.toServer.push({ kind: 'close' });
    if (wasOpen) link.events.close(1006, 'connection reset');
  }

  /** Cut a terminal off silently: nothing gets through until healed; heartbeats must notice. */
  partition(terminalId: string): void {
    this.trace(`partition ${terminalId}`);
    this.partitioned.add(terminalId);
    for (const l of this.links) {
      if (l.terminalId !== terminalId) continue;
      l.blackholed = true;
      l.toServer = [];
      l.toClient = [];
    }
  }

  heal(terminalId: string): void {
    this.trace(`heal ${terminalId}`);
    this.partitioned.delete(terminalId);
  }

  /** Every link as the server crashes: the server forgets them; terminals see resets. */
  serverCrashed(): void {
    this.resetLinks(() => true);
  }

  /**
   * One server instance dies (several instances): its links reset, nothing more reaches or leaves
   * it; the other instance's links carry on.
   */
  instanceCrashed(hub: SyncHub): void {
    this.resetLinks((l) => l.hub === hub);
  }

  /** The server side of these links is gone: nothing more is delivered, and open terminals see a reset. */
  private resetLinks(which: (l: (typeof this.links)[number]) => boolean): void {
    for (const l of this.links) {
      if (!which(l)) continue;
      l.serverOpen = false;
      l.toServer = [];
      if (l.clientOpen) {
        l.clientOpen = false;
        l.toClient = [];
        l.events.close(1006, 'server went away');
      }
    }
    this.links = this.links.filter((l) => !which(l));
  }

  inFlight(): number {
    return this.links.reduce((n, l) => n + l.pending(), 0);
  }

  /** Deliver one event on a random link and direction; false if nothing is in flight. */
  deliverOne(): boolean {
    this.links = this.links.filter((l) => l.clientOpen || l.serverOpen || l.pending() > 0);
    const busy = this.links.filter((l) => l.pending() > 0);
    if (busy.length === 0) return false;
    const link = busy[Math.floor(this.rng() * busy.length)]!;
    const toServer = link.toServer.length > 0 && (link.toClient.length === 0 || this.rng() < 0.5);
    if (toServer) {
      const e = link.toServer.shift()!;
      if (!link.serverOpen) return true;
      if (e.kind === 'close') {
        link.serverOpen = false;
        link.handle.closed();
        return true;
      }
      if (e.kind === 'pong') {
        link.handle.pong();
        return true;
      }
      if (this.faults.duplicate > 0 && this.duplicable(e.text, '{"type":"push"') && this.rng() < this.faults.duplicate) {
        this.trace(`duplicate ${e.text.slice(9, 20)} on link ${link.id}`);
        link.toServer.unshift(e);
      }
      if (process.env.SIM_TRACE_FRAMES) this.trace(`<- ${link.terminalId}#${link.id}: ${e.text.slice(0, Number(process.env.SIM_TRACE_FRAMES) > 1 ? 5000 : 160)}`);
      this.onServerFrame?.(link, e.text);
      link.handle.message(e.text, false, e.text.length);
    } else {
      const e = link.toClient.shift()!;
      if (!link.clientOpen) return true;
      if (e.kind === 'close') {
        link.clientOpen = false;
        link.events.close(e.code, e.reason);
        return true;
      }
      if (e.kind === 'ping') {
        // The client's WebSocket answers a ping by itself.
        if (!link.blackholed) link.toServer.push({ kind: 'pong' });
        return true;
      }
      if (this.faults.duplicate > 0 && this.duplicable(e.text, '{"type":"results"') && this.rng() < this.faults.duplicate) {
        this.trace(`duplicate ${e.text.slice(9, 20)} on link ${link.id}`);
        link.toClient.unshift(e);
      }
      if (process.env.SIM_TRACE_FRAMES) this.trace(`-> ${link.terminalId}#${link.id}: ${e.text.slice(0, Number(process.env.SIM_TRACE_FRAMES) > 1 ? 5000 : 160)}`);
      link.events.message(e.text);
    }
    return true;
  }

  private duplicable(text: string, always: string): boolean {
    if (text.startsWith(always)) return true;
    return this.faults.duplicateAll === true && !text.startsWith('{"type":"hello"') && !text.startsWith('{"type":"welcome"');
  }

  randomOpenLink(terminalId?: string): SimLink | null {
    const open = this.links.filter((l) => (l.clientOpen || l.serverOpen) && (!terminalId || l.terminalId === terminalId));
    return open.length ? open[Math.floor(this.rng() * open.length)]! : null;
  }
}

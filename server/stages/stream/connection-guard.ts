/**
 * TCP connection limits for the HTTP/WebSocket server, visible in the log and in /metrics: at most
 * `maxConnections` open at once (kept below the process's file-descriptor limit, so the server always has fds
 * left for model files, pipelines and its own work) and at most `maxConnectionsPerAddress` from one peer address.
 * When all connections are taken, a newcomer from a peer with fewer connections than the busiest peer takes the
 * busiest peer's oldest plain HTTP connection (never a WebSocket viewer): a few peers holding idle connections
 * cannot lock everybody else out. Every socket gets an error handler before anything else can happen to it: a
 * connection reset at any moment is a counted event, never an uncaught 'error'.
 */
import { readFileSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import type { Logger } from '../../util/log.ts';

/** File descriptors kept free for everything that is not a client connection. */
export const FD_RESERVE = 128;

export interface ConnectionLimits {
  maxConnections: number;
  maxConnectionsPerAddress: number;
}

/** The soft limit on open files (`ulimit -n`, systemd's LimitNOFILE), or null when it cannot be read. */
export function openFileLimit(procLimits = '/proc/self/limits'): number | null {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync(procLimits, 'utf8'));
    if (!m) return null;
    return m[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(m[1]);
  } catch {
    return null;
  }
}

/** The connection limit the fd limit allows, and a warning when the configured one had to be lowered. */
export function effectiveMaxConnections(configured: number, fdLimit: number | null): { max: number; warning: string | null } {
  if (fdLimit === null || configured + FD_RESERVE <= fdLimit) return { max: configured, warning: null };
  const max = Math.max(8, fdLimit - FD_RESERVE);
  return {
    max,
    warning: `server.maxConnections ${configured} does not fit the open-file limit ${fdLimit} (ulimit -n / LimitNOFILE) with ${FD_RESERVE} fds kept free; using ${max}. Raise the limit to allow more.`,
  };
}

export class ConnectionGuard {
  /** Open sockets per peer address, oldest first. */
  private readonly perAddress = new Map<string, Socket[]>();
  private readonly upgraded = new WeakSet<object>();
  open = 0;
  refusedTotal = 0;
  refusedPerAddress = 0;
  /** Connections closed to make room for a peer with fewer. */
  evicted = 0;
  resets = 0;

  constructor(
    private readonly limits: ConnectionLimits,
    private readonly log: Logger,
  ) {}

  attach(server: Server): void {
    // Before Node's own listener: the error handler is in place before the HTTP parser sees a byte.
    server.prependListener('connection', (socket: Socket) => this.onConnection(socket));
    // WebSocket viewers are never taken to make room.
    server.prependListener('upgrade', (_req: unknown, socket: object) => this.upgraded.add(socket));
  }

  /** How many connections `address` has open. */
  countFor(address: string): number {
    return this.perAddress.get(address)?.length ?? 0;
  }

  /** Closes the oldest plain connection of the busiest peer if it has more than `than`; true if one was closed. */
  private evictFromBusiest(than: number, newcomer: string): boolean {
    let busiest: string | null = null;
    let most = 0;
    for (const [address, list] of this.perAddress) {
      if (list.length > most) {
        busiest = address;
        most = list.length;
      }
    }
    // Only from a peer with at least two more than the newcomer: never a swap between equals.
    if (busiest === null || most < than + 2) return false;
    const victim = this.perAddress.get(busiest)!.find((s) => !this.upgraded.has(s));
    if (!victim) return false;
    this.evicted++;
    this.log.limited('connection-evicted', `all ${this.limits.maxConnections} connections in use: closed one of the ${most} from ${busiest} to let ${newcomer} in (server.maxConnections)`);
    this.release(victim, busiest);
    victim.destroy();
    return true;
  }

  private release(socket: Socket, address: string): void {
    const list = this.perAddress.get(address);
    const i = list?.indexOf(socket) ?? -1;
    if (!list || i < 0) return;
    list.splice(i, 1);
    this.open--;
    if (list.length === 0) this.perAddress.delete(address);
  }

  private onConnection(socket: Socket): void {
    socket.on('error', () => {
      // ECONNRESET, EPIPE, ETIMEDOUT: the peer went away. The close handler does the bookkeeping.
      this.resets++;
    });
    const address = socket.remoteAddress ?? '?';
    if (this.open >= this.limits.maxConnections && !this.evictFromBusiest(this.countFor(address), address)) {
      this.refusedTotal++;
      this.log.limited('connection-refused', `refused a connection from ${address}: ${this.open} open, the most allowed (server.maxConnections ${this.limits.maxConnections})`);
      socket.destroy();
      return;
    }
    const mine = this.countFor(address);
    if (mine >= this.limits.maxConnectionsPerAddress) {
      this.refusedPerAddress++;
      this.log.limited('connection-refused', `refused a connection from ${address}: it has ${mine} open, the most one address may have (server.maxConnectionsPerAddress)`);
      socket.destroy();
      return;
    }
    this.open++;
    const list = this.perAddress.get(address) ?? [];
    list.push(socket);
    this.perAddress.set(address, list);
    socket.once('close', () => this.release(socket, address));
  }
}

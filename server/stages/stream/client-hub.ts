import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { SampleWindow, summarize, type Summary } from '../../util/stats.ts';
import { parseControlAction, type ControlAction, type ServerTextMessage, type StatsMessage } from '../../protocol/index.ts';
import type { OutgoingFrame } from './frame-message.ts';

export interface ClientHubOptions {
  maxClients: number;
  controlToken: string | null;
  /** Extra browser origins allowed besides the server's own. */
  allowedOrigins: string[];
  clientStallMs: number;
  maxMessageBytes: number;
  /** First message for each client. */
  hello: () => ServerTextMessage;
  /** Current status for a newly connected client. */
  status: () => ServerTextMessage;
  /** Carries out a control action (token already checked); resolves with a message for the client. */
  onControl: (action: ControlAction) => Promise<string>;
  /** Extra numbers for the per-client stats message. */
  streamRates: () => Omit<StatsMessage, 'type' | 'frameAge' | 'slowLink'>;
  /** Called with the time a frame took to reach the client's socket. */
  onSent?: (ms: number) => void;
  /** Called with every frame age a client reports (capture -> drawn), besides the per-client window. */
  onFrameAge?: (ms: number) => void;
  log?: (line: string) => void;
}

/** How many recent frames' capture times are kept for the frame ages viewers report back. */
const CAPTURE_TIMES_KEPT = 512;

/** One viewer connection: at most one frame on the wire, the newest one waiting, older ones dropped. */
class Client {
  sending = false;
  sendingSince = 0;
  waiting: OutgoingFrame | null = null;
  dropped = 0;
  sent = 0;
  readonly frameAge = new SampleWindow(600);

  constructor(
    readonly ws: WebSocket,
    readonly address: string,
  ) {}
}

/**
 * The WebSocket side of the stream: origin check, client limit, per-client backpressure (a slow client gets
 * fewer frames, never a growing buffer), stall disconnects, and the only two things a client may say:
 * "I drew frame N" and a token-guarded control action naming a configured option.
 */
export class ClientHub {
  private readonly wss: WebSocketServer;
  private readonly clients = new Set<Client>();
  private readonly timer: NodeJS.Timeout;
  private readonly tokenDigest: Buffer | null;
  private readonly captureTimes = new Map<number, number>();
  rejectedConnections = 0;
  stallDisconnects = 0;
  /** Frames dropped for slow viewers since the start, including viewers that have left (a counter never goes down). */
  framesDroppedTotal = 0;

  constructor(private readonly options: ClientHubOptions) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes, perMessageDeflate: false });
    this.tokenDigest = options.controlToken ? digest(options.controlToken) : null;
    this.timer = setInterval(() => this.tick(), 1000);
    this.timer.unref();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Handles HTTP upgrades on `/ws` for the given server. */
  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== '/ws') return refuse(socket, 404, 'Not Found');
      if (!this.originAllowed(req)) {
        this.rejectedConnections++;
        this.options.log?.(`refused WebSocket from origin ${String(req.headers.origin)} (not this server's origin or server.allowedOrigins)`);
        return refuse(socket, 403, 'Forbidden origin');
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, req));
    });
  }

  /** Sends a frame (one message, shared by all) to every client, each at its own pace. */
  broadcast(payload: OutgoingFrame): void {
    this.captureTimes.set(payload.id, payload.captureTime);
    if (this.captureTimes.size > CAPTURE_TIMES_KEPT) this.captureTimes.delete(this.captureTimes.keys().next().value!);
    for (const client of this.clients) {
      if (client.sending) {
        if (client.waiting) {
          client.dropped++;
          this.framesDroppedTotal++;
        }
        client.waiting = payload;
      } else {
        this.sendFrame(client, payload);
      }
    }
  }

  broadcastText(message: ServerTextMessage): void {
    const text = JSON.stringify(message);
    for (const client of this.clients) if (client.ws.readyState === WebSocket.OPEN) client.ws.send(text);
  }

  close(): void {
    clearInterval(this.timer);
    for (const client of this.clients) client.ws.terminate();
    this.clients.clear();
    this.wss.close();
  }

  /** Per-client numbers for /metrics, bench and tests. */
  snapshot(): { address: string; sent: number; dropped: number; frameAge: Summary }[] {
    return [...this.clients].map((c) => ({ address: c.address, sent: c.sent, dropped: c.dropped, frameAge: summarize(c.frameAge.values()) }));
  }

  private originAllowed(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    // Non-browser clients send no Origin; browsers always do, and a page on another site must not connect.
    if (origin === undefined) return true;
    if (this.options.allowedOrigins.includes(origin)) return true;
    try {
      return new URL(origin).host === req.headers.host;
    } catch {
      return false;
    }
  }

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const address = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    if (this.clients.size >= this.options.maxClients) {
      this.rejectedConnections++;
      ws.send(JSON.stringify({ type: 'error', message: `server full: at most ${this.options.maxClients} viewers` }));
      ws.close(1013, 'server full');
      return;
    }
    const client = new Client(ws, address);
    this.clients.add(client);
    ws.on('message', (data, isBinary) => this.onMessage(client, data, isBinary));
    ws.on('close', () => this.clients.delete(client));
    ws.on('error', (err) => {
      // Oversized messages (maxPayload) end here: ws closes the socket with 1009.
      this.options.log?.(`viewer ${address}: ${err.message}`);
      this.clients.delete(client);
    });
    ws.send(JSON.stringify(this.options.hello()));
    ws.send(JSON.stringify(this.options.status()));
  }

  private onMessage(client: Client, data: RawData, isBinary: boolean): void {
    const fail = (message: string): void => {
      if (client.ws.readyState === WebSocket.OPEN) client.ws.send(JSON.stringify({ type: 'error', message }));
    };
    if (isBinary) return fail('binary messages are not accepted; send JSON text');
    let msg: unknown;
    try {
      msg = JSON.parse(data.toString());
    } catch {
      return fail('malformed message: expected JSON');
    }
    if (typeof msg !== 'object' || msg === null) return fail('malformed message: expected a JSON object');
    const m = msg as Record<string, unknown>;
    if (m.type === 'drawn') {
      if (typeof m.id !== 'number' || !Number.isInteger(m.id)) return fail('drawn: id must be an integer frame id');
      const captured = this.captureTimes.get(m.id);
      if (captured !== undefined) {
        const age = Date.now() - captured;
        client.frameAge.push(age);
        this.options.onFrameAge?.(age);
      }
      return;
    }
    if (m.type === 'control') {
      void this.onControl(client, m);
      return;
    }
    fail(`unknown message type ${JSON.stringify(m.type)}; expected "drawn" or "control"`);
  }

  private async onControl(client: Client, m: Record<string, unknown>): Promise<void> {
    // Echoed to the sender only, and cut short; logged JSON-quoted (no forged log lines from a newline in it).
    const action = typeof m.action === 'string' ? m.action.slice(0, 64) : '(none)';
    const answer = (ok: boolean, message: string): void => {
      if (client.ws.readyState === WebSocket.OPEN) client.ws.send(JSON.stringify({ type: 'control-result', action, ok, message }));
    };
    if (!this.tokenDigest) return answer(false, 'controls are disabled: the server has no control token configured');
    if (typeof m.token !== 'string' || !timingSafeEqual(digest(m.token), this.tokenDigest)) {
      this.options.log?.(`viewer ${client.address}: control ${JSON.stringify(action)} refused (wrong or missing token)`);
      return answer(false, 'refused: wrong or missing control token');
    }
    const parsed = parseControlAction(m.action, m.value);
    if (!parsed.ok) return answer(false, parsed.message);
    try {
      const message = await this.options.onControl(parsed.action);
      answer(true, message);
    } catch (err) {
      answer(false, (err as Error).message);
    }
  }

  private sendFrame(client: Client, payload: OutgoingFrame): void {
    if (client.ws.readyState !== WebSocket.OPEN) return;
    client.sending = true;
    client.sendingSince = performance.now();
    client.ws.send(payload.message, { binary: true }, (err) => {
      client.sending = false;
      if (err) return;
      client.sent++;
      this.options.onSent?.(performance.now() - client.sendingSince);
      const next = client.waiting;
      client.waiting = null;
      if (next) this.sendFrame(client, next);
    });
  }

  private tick(): void {
    const now = performance.now();
    const rates = this.options.streamRates();
    for (const client of this.clients) {
      if (client.sending && now - client.sendingSince > this.options.clientStallMs) {
        this.stallDisconnects++;
        this.options.log?.(`viewer ${client.address}: not reading for ${Math.round(now - client.sendingSince)} ms; disconnecting`);
        client.ws.terminate();
        this.clients.delete(client);
        continue;
      }
      if (client.ws.readyState !== WebSocket.OPEN) continue;
      const ages = client.frameAge.values();
      const s = summarize(ages);
      const stats: StatsMessage = {
        type: 'stats',
        frameAge: s.count > 0 ? { p50: s.p50, p90: s.p90, p99: s.p99, last: client.frameAge.last(), count: s.count } : null,
        ...rates,
        slowLink: client.dropped,
      };
      client.ws.send(JSON.stringify(stats));
    }
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

function refuse(socket: Duplex, code: number, text: string): void {
  socket.end(`HTTP/1.1 ${code} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

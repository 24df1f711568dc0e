import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { createLogger, untrusted, type Logger } from '../../util/log.ts';
import { TokenBucket, WindowCounter } from '../../util/rate-limit.ts';
import { SampleWindow, summarize, type Summary } from '../../util/stats.ts';
import { parseControlAction, type ControlAction, type ServerTextMessage, type StatsMessage } from '../../protocol/index.ts';
import type { OutgoingFrame } from './frame-message.ts';
import { HostPolicy } from './host-policy.ts';

/** Per-viewer limits on what a viewer can make the server do. */
export interface ClientBudgets {
  /** Error and control-result replies per second (burst `replyBurst`); beyond that replies are left out. */
  repliesPerSecond: number;
  replyBurst: number;
  /** Control actions per second a token holder may ask for (burst `controlBurst`). */
  controlsPerSecond: number;
  controlBurst: number;
  /** Messages of any kind per second (a viewer sends one `drawn` per frame). */
  messagesPerSecond: number;
  messageBurst: number;
  /** Invalid messages (malformed, refused, over a rate) within `strikeWindowMs` that get a viewer disconnected. */
  maxStrikes: number;
  strikeWindowMs: number;
}

export const DEFAULT_BUDGETS: ClientBudgets = {
  repliesPerSecond: 2,
  replyBurst: 10,
  controlsPerSecond: 5,
  controlBurst: 20,
  messagesPerSecond: 240,
  messageBurst: 480,
  maxStrikes: 30,
  strikeWindowMs: 10_000,
};

export interface ClientHubOptions {
  maxClients: number;
  /** Viewers one peer address may have at once (default: maxClients), so one peer cannot take every slot. */
  maxClientsPerAddress?: number;
  controlToken: string | null;
  /** Extra browser origins allowed besides the server's own (used when `hosts` is not given). */
  allowedOrigins: string[];
  /** Host and Origin policy (default: loopback hosts, `allowedOrigins`). */
  hosts?: HostPolicy;
  /** A viewer whose sends have not drained, or who has not answered a ping, for this long is disconnected. */
  clientStallMs: number;
  maxMessageBytes: number;
  /** Bytes that may wait in one viewer's send buffer (frames and text alike; default 4 MiB). */
  maxBufferedBytes?: number;
  budgets?: Partial<ClientBudgets>;
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
  log?: Logger | ((line: string) => void);
}

/** How many recent frames' capture times are kept for the frame ages viewers report back. */
const CAPTURE_TIMES_KEPT = 512;
/** A refused upgrade whose peer does not take the answer is dropped after this. */
const REFUSE_LINGER_MS = 2000;

export type RefusalReason = 'path' | 'host' | 'origin' | 'full' | 'per-address' | 'handshake';
export type DisconnectReason = 'stalled' | 'abuse' | 'buffer';

/** One viewer connection: at most one frame on the wire, the newest one waiting, older ones dropped. */
class Client {
  sending = false;
  sendingSince = 0;
  waiting: OutgoingFrame | null = null;
  dropped = 0;
  sent = 0;
  /** When each send still unflushed was started, oldest first (frames, text, pings alike). */
  readonly unflushed: number[] = [];
  pingSentAt = 0;
  awaitingPong = false;
  gone = false;
  readonly frameAge = new SampleWindow(600);
  readonly replies: TokenBucket;
  readonly controls: TokenBucket;
  readonly messages: TokenBucket;
  readonly strikes: WindowCounter;

  constructor(
    readonly ws: WebSocket,
    readonly address: string,
    readonly peer: string,
    b: ClientBudgets,
  ) {
    this.replies = new TokenBucket(b.repliesPerSecond, b.replyBurst);
    this.controls = new TokenBucket(b.controlsPerSecond, b.controlBurst);
    this.messages = new TokenBucket(b.messagesPerSecond, b.messageBurst);
    this.strikes = new WindowCounter(b.strikeWindowMs, b.maxStrikes);
  }
}

/**
 * The WebSocket side of the stream: Host and Origin checks, client limits (in all and per address), per-client
 * budgets (a bounded send buffer for every kind of message, rate limits on replies and controls, disconnects of
 * abusers), stall detection that does not depend on frames being sent (pings), and the only two things a client
 * may say: "I drew frame N" and a token-guarded control action naming a configured option. Nothing a client sends
 * or does to its connection can throw out of a handler.
 */
export class ClientHub {
  private readonly wss: WebSocketServer;
  private readonly clients = new Set<Client>();
  private readonly timer: NodeJS.Timeout;
  private readonly tokenDigest: Buffer | null;
  private readonly captureTimes = new Map<number, number>();
  private readonly hosts: HostPolicy;
  private readonly budgets: ClientBudgets;
  private readonly log: Logger;
  private readonly maxBuffered: number;
  private readonly pingEveryMs: number;
  private lastPingRound = 0;
  /** Refused upgrades, by reason. */
  readonly refused: Record<RefusalReason, number> = { path: 0, host: 0, origin: 0, full: 0, 'per-address': 0, handshake: 0 };
  /** Viewers disconnected by the server, by reason. */
  readonly disconnects: Record<DisconnectReason, number> = { stalled: 0, abuse: 0, buffer: 0 };
  /** Replies and stats left out because a viewer was over its reply rate or its send buffer. */
  messagesLeftOut = 0;
  /** Frames dropped for slow viewers since the start, including viewers that have left (a counter never goes down). */
  framesDroppedTotal = 0;

  constructor(private readonly options: ClientHubOptions) {
    // autoPong off: pongs go through the same budget as everything else (a ping flood cannot fill the buffer).
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes, perMessageDeflate: false, autoPong: false });
    this.wss.on('error', () => {});
    // A request ws cannot accept as a WebSocket handshake (bad key, version, headers): counted, answered 400.
    this.wss.on('wsClientError', (err: Error, socket: Duplex, req: IncomingMessage) => {
      this.log.limited('ws-refused', `refused WebSocket handshake from ${req.socket.remoteAddress ?? '?'}: ${err.message}`);
      this.refuse(socket, 'handshake', 400, 'Bad Request');
    });
    this.tokenDigest = options.controlToken ? digest(options.controlToken) : null;
    this.hosts = options.hosts ?? new HostPolicy({ allowedHosts: [], bindHost: '127.0.0.1', allowedOrigins: options.allowedOrigins });
    this.budgets = { ...DEFAULT_BUDGETS, ...options.budgets };
    const log = options.log;
    this.log = log && 'limited' in log ? log : createLogger(log ?? (() => {}));
    this.maxBuffered = options.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.pingEveryMs = Math.max(250, Math.min(5000, options.clientStallMs / 2));
    this.timer = setInterval(() => this.guard(() => this.tick()), Math.min(1000, this.pingEveryMs));
    this.timer.unref();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** WebSocket connections refused, all reasons (origin, host, full, ...). */
  get rejectedConnections(): number {
    return Object.values(this.refused).reduce((a, b) => a + b, 0);
  }

  get stallDisconnects(): number {
    return this.disconnects.stalled;
  }

  /** Handles HTTP upgrades on `/ws` for the given server. */
  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // First, before anything can fail: a reset from here on is an event, not an uncaught error.
      socket.on('error', () => {});
      this.guard(
        () => this.onUpgrade(req, socket, head),
        () => socket.destroy(),
      );
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
        this.guard(() => this.sendFrame(client, payload));
      }
    }
  }

  /** Hello and status: every viewer must get them; a viewer too far behind to take one is disconnected. */
  broadcastText(message: ServerTextMessage): void {
    const text = JSON.stringify(message);
    for (const client of this.clients) this.guard(() => this.sendText(client, text, true));
  }

  close(): void {
    clearInterval(this.timer);
    for (const client of this.clients) client.ws.terminate();
    this.clients.clear();
    this.wss.close();
  }

  /** Per-client numbers for /metrics, bench and tests. */
  snapshot(): { address: string; sent: number; dropped: number; frameAge: Summary }[] {
    return [...this.clients].map((c) => ({ address: c.peer, sent: c.sent, dropped: c.dropped, frameAge: summarize(c.frameAge.values()) }));
  }

  /** Runs `fn`; an exception is logged (it is a bug) and never leaves the handler. */
  private guard(fn: () => void, onError?: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.limited('hub-error', `viewer handling failed (kept serving): ${(err as Error).stack ?? String(err)}`);
      try {
        onError?.();
      } catch {
        // nothing more to do
      }
    }
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // Compared as text: no URL parsing of what a client sent (`//`, `//a:b`, `http://` are just wrong paths).
    const pathname = (req.url ?? '').split('?')[0];
    const address = req.socket.remoteAddress ?? '?';
    if (pathname !== '/ws') return this.refuse(socket, 'path', 404, 'Not Found');
    if (!this.hosts.hostAllowed(req.headers.host)) {
      this.log.limited('ws-refused', `refused WebSocket from ${address} for Host ${untrusted(req.headers.host ?? '', 100)} (not this server: server.allowedHosts)`);
      return this.refuse(socket, 'host', 403, 'Forbidden host');
    }
    if (!this.hosts.originAllowed(req.headers.origin, req.headers.host)) {
      this.log.limited('ws-refused', `refused WebSocket from origin ${untrusted(req.headers.origin ?? '', 100)} (not this server's origin or server.allowedOrigins)`);
      return this.refuse(socket, 'origin', 403, 'Forbidden origin');
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.guard(() => this.onConnection(ws, req), () => ws.terminate()));
  }

  private refuse(socket: Duplex, reason: RefusalReason, code: number, text: string): void {
    this.refused[reason]++;
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    socket.end(`HTTP/1.1 ${code} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    // A peer that never reads the answer must not keep the socket.
    setTimeout(() => socket.destroy(), REFUSE_LINGER_MS).unref();
  }

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const address = req.socket.remoteAddress ?? '?';
    const peer = `${address}:${req.socket.remotePort ?? '?'}`;
    let client: Client | null = null;
    ws.on('error', (err) => {
      // Oversized messages (maxPayload) end here: ws closes the socket with 1009.
      this.log.limited('viewer-error', `viewer ${peer}: ${err.message}`);
      if (client) this.drop(client);
    });
    const perAddress = this.options.maxClientsPerAddress ?? this.options.maxClients;
    const fromHere = [...this.clients].filter((c) => c.address === address).length;
    const full = this.clients.size >= this.options.maxClients;
    if (full || fromHere >= perAddress) {
      const reason: RefusalReason = full ? 'full' : 'per-address';
      this.refused[reason]++;
      const message = full ? `server full: at most ${this.options.maxClients} viewers` : `too many viewers from ${address}: at most ${perAddress} from one address`;
      this.log.limited('viewer-refused', `refused viewer ${peer}: ${message} (${this.clients.size} connected; server.maxClients, server.maxClientsPerAddress)`);
      ws.send(JSON.stringify({ type: 'error', message }));
      ws.close(1013, full ? 'server full' : 'too many from this address');
      setTimeout(() => ws.terminate(), REFUSE_LINGER_MS).unref();
      return;
    }
    const c = new Client(ws, address, peer, this.budgets);
    client = c;
    this.clients.add(c);
    ws.on('message', (data, isBinary) => this.guard(() => this.onMessage(c, data, isBinary)));
    ws.on('ping', (data) => this.guard(() => this.onPing(c, data)));
    ws.on('pong', () => {
      c.awaitingPong = false;
    });
    ws.on('close', () => this.drop(c));
    this.sendText(c, JSON.stringify(this.options.hello()), true);
    this.sendText(c, JSON.stringify(this.options.status()), true);
  }

  private drop(client: Client): void {
    client.gone = true;
    this.clients.delete(client);
  }

  private disconnect(client: Client, reason: DisconnectReason, why: string, code = 1008): void {
    if (client.gone) return;
    this.disconnects[reason]++;
    this.log.limited(`disconnect-${reason}`, `viewer ${client.peer}: ${why}; disconnecting`);
    this.drop(client);
    if (reason === 'stalled') {
      client.ws.terminate();
      return;
    }
    // Close politely (the reason reaches a well-meaning client), but do not wait on a peer that does not read.
    try {
      client.ws.close(code, why.slice(0, 120));
    } catch {
      // already closing
    }
    setTimeout(() => client.ws.terminate(), REFUSE_LINGER_MS).unref();
  }

  /** One invalid thing from a client; too many in the window and it is disconnected. Returns false if it was. */
  private strike(client: Client, what: string): boolean {
    if (!client.strikes.hit()) return true;
    this.disconnect(client, 'abuse', `more than ${this.budgets.maxStrikes} invalid messages in ${this.budgets.strikeWindowMs / 1000} s (last: ${what})`);
    return false;
  }

  /** Sends text within the client's buffer budget. Essential messages that do not fit disconnect the client. */
  private sendText(client: Client, text: string, essential: boolean): void {
    if (client.gone || client.ws.readyState !== WebSocket.OPEN) return;
    if (client.ws.bufferedAmount + text.length > this.maxBuffered) {
      if (essential) {
        this.disconnect(client, 'buffer', `${client.ws.bufferedAmount} bytes waiting to be sent (more than ${this.maxBuffered})`);
      } else {
        this.messagesLeftOut++;
      }
      return;
    }
    this.track(client, (done) => client.ws.send(text, done));
  }

  /** A reply to something the client sent: rate-limited, and never more than the buffer budget. */
  private reply(client: Client, message: Record<string, unknown>): void {
    if (!client.replies.take()) {
      this.messagesLeftOut++;
      return;
    }
    this.sendText(client, JSON.stringify(message), false);
  }

  /** Runs a send and notes when it started until its data has been handed to the kernel. */
  private track(client: Client, send: (done: (err?: Error) => void) => void): void {
    const started = performance.now();
    client.unflushed.push(started);
    send(() => {
      const i = client.unflushed.indexOf(started);
      if (i >= 0) client.unflushed.splice(i, 1);
    });
  }

  private onPing(client: Client, data: Buffer): void {
    if (!client.messages.take()) {
      this.strike(client, 'ping flood');
      return;
    }
    if (client.ws.bufferedAmount + data.length > this.maxBuffered) return;
    this.track(client, (done) => client.ws.pong(data, false, done));
  }

  private onMessage(client: Client, data: RawData, isBinary: boolean): void {
    if (client.gone) return;
    const fail = (message: string): void => {
      if (this.strike(client, message)) this.reply(client, { type: 'error', message });
    };
    if (!client.messages.take()) {
      fail(`too many messages: at most ${this.budgets.messagesPerSecond} per second`);
      return;
    }
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
      this.onControl(client, m).catch((err: Error) => this.log.limited('hub-error', `control handling failed: ${err.stack ?? err.message}`));
      return;
    }
    fail(`unknown message type ${JSON.stringify(typeof m.type === 'string' ? m.type.slice(0, 64) : m.type) ?? 'undefined'}; expected "drawn" or "control"`);
  }

  private async onControl(client: Client, m: Record<string, unknown>): Promise<void> {
    // Echoed to the sender only, and cut short; logged quoted and escaped (no forged log lines from a newline in it).
    const action = typeof m.action === 'string' ? m.action.slice(0, 64) : '(none)';
    const answer = (ok: boolean, message: string): void => this.reply(client, { type: 'control-result', action, ok, message });
    // A token holder's answers are bounded by the control rate instead of the reply rate.
    const answerHolder = (ok: boolean, message: string): void => this.sendText(client, JSON.stringify({ type: 'control-result', action, ok, message }), false);
    if (!this.tokenDigest) {
      if (this.strike(client, 'control without a configured token')) answer(false, 'controls are disabled: the server has no control token configured');
      return;
    }
    if (typeof m.token !== 'string' || !timingSafeEqual(digest(m.token), this.tokenDigest)) {
      this.log.limited('control-refused', `viewer ${client.peer}: control ${untrusted(action)} refused (wrong or missing token)`);
      if (this.strike(client, 'wrong control token')) answer(false, 'refused: wrong or missing control token');
      return;
    }
    if (!client.controls.take()) {
      answer(false, `refused: too many control actions (at most ${this.budgets.controlsPerSecond} per second)`);
      return;
    }
    const parsed = parseControlAction(m.action, m.value);
    if (!parsed.ok) return answerHolder(false, parsed.message);
    try {
      const message = await this.options.onControl(parsed.action);
      answerHolder(true, message);
    } catch (err) {
      answerHolder(false, (err as Error).message);
    }
  }

  private sendFrame(client: Client, payload: OutgoingFrame): void {
    if (client.gone || client.ws.readyState !== WebSocket.OPEN) return;
    if (client.ws.bufferedAmount + payload.message.length > this.maxBuffered) {
      // Text filled the buffer: keep the frame as the waiting one; the stall check handles a client that never drains.
      client.waiting = payload;
      return;
    }
    client.sending = true;
    client.sendingSince = performance.now();
    this.track(client, (done) =>
      client.ws.send(payload.message, { binary: true }, (err) => {
        done(err);
        client.sending = false;
        if (err || client.gone) return;
        client.sent++;
        this.options.onSent?.(performance.now() - client.sendingSince);
        const next = client.waiting;
        client.waiting = null;
        if (next) this.guard(() => this.sendFrame(client, next));
      }),
    );
  }

  private tick(): void {
    const now = performance.now();
    const ping = now - this.lastPingRound >= this.pingEveryMs;
    if (ping) this.lastPingRound = now;
    // About once a second (the timer's own jitter must not skip a beat).
    const statsDue = !this.lastStats || now - this.lastStats >= 900;
    if (statsDue) this.lastStats = now;
    const rates = statsDue ? this.options.streamRates() : null;
    for (const client of this.clients) {
      // Not draining: a send not handed to the kernel, or a ping not answered, for clientStallMs. Pings go out
      // whether or not frames do, so a viewer that stopped reading is found while the source is lost too.
      const oldest = client.unflushed[0];
      const silentFor = Math.max(oldest === undefined ? 0 : now - oldest, client.awaitingPong ? now - client.pingSentAt : 0);
      if (silentFor > this.options.clientStallMs) {
        this.disconnect(client, 'stalled', `not reading for ${Math.round(silentFor)} ms`);
        continue;
      }
      if (client.ws.readyState !== WebSocket.OPEN) continue;
      if (client.waiting && !client.sending) this.sendFrame(client, takeWaiting(client));
      if (ping && !client.awaitingPong) {
        client.awaitingPong = true;
        client.pingSentAt = now;
        this.track(client, (done) => client.ws.ping(undefined, false, done));
      }
      if (!rates) continue;
      const ages = client.frameAge.values();
      const s = summarize(ages);
      const stats: StatsMessage = {
        type: 'stats',
        frameAge: s.count > 0 ? { p50: s.p50, p90: s.p90, p99: s.p99, last: client.frameAge.last(), count: s.count } : null,
        ...rates,
        slowLink: client.dropped,
      };
      this.sendText(client, JSON.stringify(stats), false);
    }
  }

  private lastStats = 0;
}

function takeWaiting(client: Client): OutgoingFrame {
  const next = client.waiting!;
  client.waiting = null;
  return next;
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

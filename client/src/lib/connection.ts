/**
 * The WebSocket link to the server: reconnects forever with capped exponential backoff, and closes a link that
 * went silent (a half-open TCP connection to a hung or rebooted server would otherwise never error).
 */
import type { ClientMessage, ServerTextMessage } from '$protocol';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';

export type LinkPhase = 'connecting' | 'open' | 'waiting' | 'stopped';

export interface LinkState {
  phase: LinkPhase;
  /** Consecutive failed attempts since the last good session. */
  attempt: number;
  /** When `waiting`: wall-clock ms of the next attempt. */
  nextAttemptAt: number | null;
  /** Why the last link ended, for the overlay. */
  lastClose: string | null;
  /** Successful sessions so far (1 after the first connect). */
  sessions: number;
}

export interface ConnectionHandlers {
  onText(message: ServerTextMessage): void;
  onBinary(data: ArrayBuffer): void;
  onState(state: LinkState): void;
  /** A message that could not be parsed; the link stays up. */
  onProtocolError(message: string): void;
}

export interface ConnectionOptions {
  backoff?: BackoffOptions;
  /** Close and reconnect when nothing at all arrives for this long while open, ms. */
  silenceTimeoutMs?: number;
}

function describeClose(event: CloseEvent): string {
  if (event.reason) return `${event.reason} (code ${event.code})`;
  // 1006: no close frame at all, which is what a crashed or unplugged server looks like.
  if (event.code === 1006) return 'the server went away (code 1006)';
  if (event.code === 1001) return 'the server is shutting down (code 1001)';
  return `closed (code ${event.code})`;
}

const KNOWN_TEXT_TYPES = new Set(['hello', 'status', 'stats', 'error', 'control-result']);

export class StreamConnection {
  private socket: WebSocket | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private silenceTimer: ReturnType<typeof setInterval> | null = null;
  private lastMessageAt = 0;
  private state: LinkState = { phase: 'stopped', attempt: 0, nextAttemptAt: null, lastClose: null, sessions: 0 };
  private readonly backoff: BackoffOptions;
  private readonly silenceTimeoutMs: number;

  constructor(
    private readonly url: string,
    private readonly handlers: ConnectionHandlers,
    options: ConnectionOptions = {},
  ) {
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.silenceTimeoutMs = options.silenceTimeoutMs ?? 10_000;
  }

  start(): void {
    if (this.state.phase !== 'stopped') return;
    this.connect();
    this.silenceTimer = setInterval(() => this.checkSilence(), 1000);
  }

  stop(): void {
    this.clearRetry();
    if (this.silenceTimer !== null) clearInterval(this.silenceTimer);
    this.silenceTimer = null;
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, 'viewer closed');
    this.setState({ phase: 'stopped', nextAttemptAt: null });
  }

  /** A good session (the server said hello): the next failure starts the backoff from the beginning again. */
  markHealthy(): void {
    if (this.state.attempt !== 0) this.setState({ attempt: 0 });
  }

  /** Sends a client message; returns false when the link is not open. */
  send(message: ClientMessage): boolean {
    if (this.socket === null || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  /** Drops the current link and reconnects now (e.g. the user pressed "reconnect"). */
  reconnectNow(): void {
    this.clearRetry();
    const socket = this.socket;
    this.socket = null;
    socket?.close(4001, 'reconnect requested');
    this.connect();
  }

  private connect(): void {
    this.clearRetry();
    this.setState({ phase: 'connecting', nextAttemptAt: null });
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.url);
    } catch (error) {
      this.scheduleRetry(`cannot open ${this.url}: ${(error as Error).message}`);
      return;
    }
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.lastMessageAt = Date.now();
      this.setState({ phase: 'open', sessions: this.state.sessions + 1 });
    };
    socket.onmessage = (event: MessageEvent) => {
      if (this.socket !== socket) return;
      this.lastMessageAt = Date.now();
      if (typeof event.data === 'string') this.handleText(event.data);
      else if (event.data instanceof ArrayBuffer) this.handlers.onBinary(event.data);
    };
    socket.onclose = (event: CloseEvent) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.scheduleRetry(describeClose(event));
    };
    // onerror is always followed by onclose, which schedules the retry.
  }

  private handleText(text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      this.handlers.onProtocolError(`text message is not JSON: ${text.slice(0, 80)}`);
      return;
    }
    const type = (message as { type?: unknown } | null)?.type;
    if (typeof type !== 'string' || !KNOWN_TEXT_TYPES.has(type)) {
      this.handlers.onProtocolError(`unknown text message type: ${String(type)}`);
      return;
    }
    this.handlers.onText(message as ServerTextMessage);
  }

  private scheduleRetry(reason: string): void {
    if (this.state.phase === 'stopped') return;
    const delay = backoffDelay(this.state.attempt, this.backoff);
    this.setState({ phase: 'waiting', attempt: this.state.attempt + 1, nextAttemptAt: Date.now() + delay, lastClose: reason });
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private checkSilence(): void {
    if (this.state.phase !== 'open' || this.socket === null) return;
    if (Date.now() - this.lastMessageAt <= this.silenceTimeoutMs) return;
    const socket = this.socket;
    this.socket = null;
    socket.close(4000, 'server silent');
    this.scheduleRetry(`no message from the server for ${Math.round(this.silenceTimeoutMs / 1000)} s`);
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private setState(patch: Partial<LinkState>): void {
    this.state = { ...this.state, ...patch };
    this.handlers.onState(this.state);
  }
}

/**
 * A Chrome DevTools Protocol client over `--remote-debugging-pipe`: Chromium reads commands on its fd 3 and
 * writes replies and events on its fd 4, each a JSON message ended by a NUL byte. A pipe instead of
 * `--remote-debugging-port` means no TCP port that any local process could use to drive the kiosk browser.
 * Sessions are flat (`Target.attachToTarget` with `flatten: true`): a page's commands carry its sessionId.
 */
import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';

export interface DevToolsEvent {
  method: string;
  params: Record<string, unknown>;
  sessionId?: string;
}

interface Pending {
  method: string;
  resolve: (result: Record<string, unknown>) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class DevToolsTimeoutError extends Error {
  override name = 'DevToolsTimeoutError';
}

export class DevToolsPipe extends EventEmitter<{ event: [DevToolsEvent]; close: [] }> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private buffer = '';
  private closed = false;

  constructor(
    private readonly toBrowser: Writable,
    fromBrowser: Readable,
  ) {
    super();
    fromBrowser.setEncoding('utf8');
    fromBrowser.on('data', (chunk: string) => this.receive(chunk));
    fromBrowser.on('close', () => this.close('the browser closed the DevTools pipe'));
    fromBrowser.on('error', () => this.close('the DevTools pipe failed'));
    toBrowser.on('error', () => this.close('the DevTools pipe failed'));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends a command; rejects on a protocol error, after `timeoutMs`, or when the pipe closes. */
  send(method: string, params: Record<string, unknown> = {}, sessionId?: string, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    if (this.closed) return Promise.reject(new Error(`${method}: the DevTools pipe is closed`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new DevToolsTimeoutError(`${method}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { method, resolve, reject, timer });
      this.toBrowser.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  }

  close(reason = 'closed'): void {
    if (this.closed) return;
    this.closed = true;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error(`${p.method}: ${reason}`));
      this.pending.delete(id);
    }
    this.emit('close');
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\0')) >= 0) {
      const text = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 1);
      let message: { id?: number; result?: Record<string, unknown>; error?: { message?: string }; method?: string; params?: Record<string, unknown>; sessionId?: string };
      try {
        message = JSON.parse(text) as typeof message;
      } catch {
        continue; // not ours to interpret; the next message starts after the NUL
      }
      if (message.id !== undefined) {
        const p = this.pending.get(message.id);
        if (!p) continue;
        this.pending.delete(message.id);
        clearTimeout(p.timer);
        if (message.error) p.reject(new Error(`${p.method}: ${message.error.message ?? 'protocol error'}`));
        else p.resolve(message.result ?? {});
      } else if (message.method) {
        this.emit('event', { method: message.method, params: message.params ?? {}, ...(message.sessionId ? { sessionId: message.sessionId } : {}) });
      }
    }
  }
}

/**
 * The stream's state as viewers and /healthz see it: one state, since when, and a short reason (secrets masked,
 * one line, at most 300 characters: the detail belongs in the log). Listeners (the viewer hub) are told of every
 * change.
 */
import { EventEmitter } from 'node:events';
import type { StatusMessage, StreamState } from '../protocol/index.ts';

export interface AppStatus {
  state: StreamState;
  /** Wall-clock ms when this state began (kept while the state stays the same and only the reason changes). */
  since: number;
  message: string;
}

const MAX_MESSAGE = 300;

export class StatusBoard extends EventEmitter<{ change: [AppStatus] }> {
  private status: AppStatus = { state: 'starting', since: Date.now(), message: 'starting' };

  constructor(private readonly mask: (text: string) => string = (t) => t) {
    super();
  }

  get current(): AppStatus {
    return this.status;
  }

  set(state: StreamState, reason: string): void {
    const line = this.mask(reason).replace(/\s*[\r\n]+\s*/g, ' ');
    const message = line.length > MAX_MESSAGE ? `${line.slice(0, MAX_MESSAGE - 3)}...` : line;
    if (state === this.status.state && message === this.status.message) return;
    const since = state === this.status.state ? this.status.since : Date.now();
    this.status = { state, since, message };
    this.emit('change', this.status);
  }

  message(): StatusMessage {
    return { type: 'status', ...this.status };
  }
}

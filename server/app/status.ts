/**
 * The stream's state as viewers and /healthz see it: one state, since when, and a short reason. Listeners
 * (the viewer hub) are told of every change.
 */
import { EventEmitter } from 'node:events';
import type { StatusMessage, StreamState } from '../protocol/index.ts';

export interface AppStatus {
  state: StreamState;
  /** Wall-clock ms when this state began (kept while the state stays the same and only the reason changes). */
  since: number;
  message: string;
}

export class StatusBoard extends EventEmitter<{ change: [AppStatus] }> {
  private status: AppStatus = { state: 'starting', since: Date.now(), message: 'starting' };

  get current(): AppStatus {
    return this.status;
  }

  set(state: StreamState, message: string): void {
    if (state === this.status.state && message === this.status.message) return;
    const since = state === this.status.state ? this.status.since : Date.now();
    this.status = { state, since, message };
    this.emit('change', this.status);
  }

  message(): StatusMessage {
    return { type: 'status', ...this.status };
  }
}

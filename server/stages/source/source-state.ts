import { EventEmitter } from 'node:events';
import type { ColorModel } from '../frame-context.ts';
import type { SourceCaps } from './gst-source.ts';

/**
 * What a running source tells its users, whether its pipeline runs on this thread (GstSource) or in the source
 * thread (ThreadedSource): the negotiated caps, the colour model, whether it runs, and the frames it delivered.
 * Each subclass keeps the fields current as its pipeline reports.
 */
export abstract class SourceState<Events extends Record<keyof Events, unknown[]>> extends EventEmitter<Events> {
  protected running = false;
  protected capsInfo: SourceCaps | null = null;
  protected color: ColorModel | null = null;
  /** Frames delivered so far. */
  framesIn = 0;

  get caps(): SourceCaps | null {
    return this.capsInfo;
  }

  get colorModel(): ColorModel | null {
    return this.color;
  }

  /** True from a successful start until the source stops, errors or ends. */
  get isRunning(): boolean {
    return this.running;
  }
}

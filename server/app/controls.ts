/**
 * The control actions a token holder may ask for (the table's names and value rules are in
 * server/protocol/controls.ts), carried out one at a time. Only names from the config and values from fixed
 * ranges ever reach here: never paths, devices or pipeline text. Requests are serialized, and of several waiting
 * requests of one kind only the last is carried out (the others are answered "superseded"), so the final state is
 * always the last one asked for and replies say what actually happened.
 */
import type { ControlAction, ControlActionName } from '../protocol/index.ts';
import type { PostprocessSettings } from '../stages/postprocess/postprocess.ts';
import type { Config } from './config.ts';

/** What the controls act on (the app). */
export interface ControlTarget {
  readonly config: Config;
  switchSource(name: string): void;
  switchModel(name: string): Promise<void>;
  configurePostprocess(settings: Partial<PostprocessSettings>): void;
  setJpegQuality(quality: number): void;
}

type ValueOf<K extends ControlActionName> = Extract<ControlAction, { action: K }>['value'];
type Handler<K extends ControlActionName> = (target: ControlTarget, value: ValueOf<K>) => string | Promise<string>;

/** Own keys only: "constructor" or "__proto__" must not pass for a configured name. */
function configuredName(action: string, what: string, value: string, table: Record<string, unknown>): string {
  if (!Object.hasOwn(table, value)) throw new Error(`${action}: unknown ${what} ${JSON.stringify(value)}; configured: ${Object.keys(table).join(', ')}`);
  return value;
}

export const CONTROL_HANDLERS: { [K in ControlActionName]: Handler<K> } = {
  'set-source': (t, value) => {
    t.switchSource(configuredName('set-source', 'source', value, t.config.sources));
    return `source is now ${value}`;
  },
  'set-model': async (t, value) => {
    await t.switchModel(configuredName('set-model', 'model', value, t.config.models));
    return `model is now ${value}`;
  },
  'set-postprocess': (t, mode) => {
    t.configurePostprocess({ mode });
    return `post-processing is now ${mode}`;
  },
  'set-jpeg-quality': (t, quality) => {
    t.setJpegQuality(quality);
    return `JPEG quality is now ${quality}`;
  },
  'set-smoothing': (t, window) => {
    t.configurePostprocess({ smoothing: window });
    return window > 1 ? `server smoothing is now the majority of ${window} frames` : 'server smoothing is now off';
  },
};

export class ControlQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private ticket = 0;
  private readonly newest = new Map<ControlActionName, number>();

  constructor(private readonly target: ControlTarget) {}

  /** Carries out the action after those already queued; resolves with the reply, rejects with the reason. */
  run(action: ControlAction): Promise<string> {
    const ticket = ++this.ticket;
    this.newest.set(action.action, ticket);
    const job = this.tail.then(() => {
      if (this.newest.get(action.action) !== ticket) {
        throw new Error(`${action.action}: superseded by a later ${action.action} request, which is applied instead`);
      }
      const handler = CONTROL_HANDLERS[action.action] as Handler<typeof action.action>;
      return handler(this.target, action.value as never);
    });
    this.tail = job.catch(() => undefined);
    return job;
  }
}

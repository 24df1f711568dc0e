/**
 * Control actions a viewer holding the control token may ask for: one table, read by the server (which checks
 * names against its config and carries them out) and by the viewer (which offers them). A value is only ever a
 * name from a list the server sent, a post-processing mode, or a small integer: never a path, device or pipeline.
 */
import { isPostprocessMode, POSTPROCESS_MODES, type PostprocessMode } from './postprocess-modes.ts';

export interface ControlValueRule {
  kind: 'name' | 'postprocess-mode' | 'integer';
  min?: number;
  max?: number;
  /** What the value means, for error messages. */
  what: string;
}

export const CONTROL_ACTIONS = {
  'set-source': { kind: 'name', what: 'a source name from the server config' },
  'set-model': { kind: 'name', what: 'a model name from the server config' },
  'set-postprocess': { kind: 'postprocess-mode', what: `one of ${POSTPROCESS_MODES.join(', ')}` },
  'set-jpeg-quality': { kind: 'integer', min: 1, max: 100, what: 'an integer from 1 to 100' },
  'set-smoothing': { kind: 'integer', min: 0, max: 9, what: 'a window of 0 (off) to 9 frames' },
} as const satisfies Record<string, ControlValueRule>;

export type ControlActionName = keyof typeof CONTROL_ACTIONS;
export const CONTROL_ACTION_NAMES = Object.keys(CONTROL_ACTIONS) as ControlActionName[];

export type ControlAction =
  | { action: 'set-source'; value: string }
  | { action: 'set-model'; value: string }
  | { action: 'set-postprocess'; value: PostprocessMode }
  | { action: 'set-jpeg-quality'; value: number }
  | { action: 'set-smoothing'; value: number };

export function isControlActionName(value: unknown): value is ControlActionName {
  return typeof value === 'string' && Object.hasOwn(CONTROL_ACTIONS, value);
}

/**
 * Checks a control request's action and value against the table. Returns the typed action, or a message saying
 * what was wrong (an unknown action is quoted as JSON and cut short, so it cannot forge lines where it is shown).
 */
export function parseControlAction(action: unknown, value: unknown): { ok: true; action: ControlAction } | { ok: false; message: string } {
  if (!isControlActionName(action)) {
    const shown = typeof action === 'string' ? JSON.stringify(action.length > 40 ? `${action.slice(0, 40)}...` : action) : '(none)';
    return { ok: false, message: `unknown action ${shown}; expected one of ${CONTROL_ACTION_NAMES.join(', ')}` };
  }
  const rule: ControlValueRule = CONTROL_ACTIONS[action];
  const fail = { ok: false as const, message: `${action}: expected ${rule.what}` };
  switch (rule.kind) {
    case 'name':
      if (typeof value !== 'string' || value.length === 0 || value.length > 200) return fail;
      break;
    case 'postprocess-mode':
      if (!isPostprocessMode(value)) return fail;
      break;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < (rule.min ?? -Infinity) || value > (rule.max ?? Infinity)) return fail;
      break;
  }
  return { ok: true, action: { action, value } as ControlAction };
}

/**
 * The server's log: one line per call, secrets masked (redact.ts), control characters escaped so nothing a client
 * sends can forge a log line, overlong lines cut, and `limited()` for lines an outsider can trigger at will
 * (refused controls, failing frames, refused connections): a few per window per kind, then one count of what was
 * left out.
 */
import { SecretMask } from './redact.ts';

const MAX_LINE = 4000;

export interface Logger {
  (line: string): void;
  /** Logs at most `burst` lines of kind `key` per window; the rest are counted and reported once the window ends. */
  limited(key: string, line: string): void;
}

export interface LoggerOptions {
  mask?: SecretMask;
  /** Lines per kind per window for `limited` (default 5 per 10 s). */
  burst?: number;
  windowMs?: number;
}

/** A string from outside (a client, a file name), quoted and cut for a log line. */
export function untrusted(value: unknown, max = 64): string {
  const s = typeof value === 'string' ? value : String(value);
  return JSON.stringify(s.length > max ? `${s.slice(0, max)}...` : s);
}

/** One printable line: CR, LF and other control characters as escapes, at most MAX_LINE characters. */
export function oneLine(text: string): string {
  const escaped = text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  return escaped.length > MAX_LINE ? `${escaped.slice(0, MAX_LINE)}... (${escaped.length - MAX_LINE} more characters)` : escaped;
}

export function createLogger(write: (line: string) => void, options: LoggerOptions = {}): Logger {
  const mask = options.mask ?? new SecretMask();
  const burst = options.burst ?? 5;
  const windowMs = options.windowMs ?? 10_000;
  const kinds = new Map<string, { start: number; count: number; suppressed: number; timer: NodeJS.Timeout | null }>();

  const log = ((line: string) => {
    try {
      write(oneLine(mask.apply(line)));
    } catch {
      // A log that cannot be written (a closed pipe) must not take the server down.
    }
  }) as Logger;

  log.limited = (key: string, line: string) => {
    const now = performance.now();
    let k = kinds.get(key);
    if (!k || now - k.start > windowMs) {
      if (k?.timer) clearTimeout(k.timer);
      if (k && k.suppressed > 0) log(`(${k.suppressed} more "${key}" lines left out in ${Math.round((now - k.start) / 1000)} s)`);
      k = { start: now, count: 0, suppressed: 0, timer: null };
      kinds.set(key, k);
    }
    if (k.count < burst) {
      k.count++;
      log(line);
      return;
    }
    k.suppressed++;
    if (!k.timer) {
      const entry = k;
      entry.timer = setTimeout(() => {
        entry.timer = null;
        if (kinds.get(key) === entry && entry.suppressed > 0) {
          log(`(${entry.suppressed} more "${key}" lines left out in ${Math.round(windowMs / 1000)} s)`);
          entry.suppressed = 0;
        }
      }, Math.max(0, windowMs - (now - k.start)));
      entry.timer.unref();
    }
  };
  return log;
}

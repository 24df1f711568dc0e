/**
 * Structured findings: every check in the alignment toolkit reports what it found as a code (stable, for
 * tests and scripts), a severity, a message that names the mistake, and the fix. Text output and JSON
 * output are both made from these.
 */

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  /** Stable identifier, e.g. `float-read-as-int8`. */
  code: string;
  severity: Severity;
  /** What is wrong (or right), in the user's terms, with the numbers that show it. */
  message: string;
  /** What to do about it. */
  fix?: string;
  /** The file, YAML key or model the finding is about. */
  subject?: string;
  /** Measured values behind the finding, for JSON consumers. */
  data?: Record<string, unknown>;
}

export function finding(
  code: string,
  severity: Severity,
  message: string,
  extra: { fix?: string; subject?: string; data?: Record<string, unknown> } = {},
): Finding {
  return { code, severity, message, ...extra };
}

export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === 'error');
}

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
}

/** Human-readable block: one finding per paragraph, errors first. */
export function formatFindings(findings: readonly Finding[], indent = '  '): string {
  if (findings.length === 0) return `${indent}no findings\n`;
  let out = '';
  for (const f of sortFindings(findings)) {
    const tag = f.severity === 'error' ? 'ERROR' : f.severity === 'warning' ? 'WARN ' : 'info ';
    out += `${indent}${tag} [${f.code}] ${f.message}\n`;
    if (f.fix) out += `${indent}      fix: ${f.fix}\n`;
  }
  return out;
}

/** 3145728 -> "3,145,728" (byte counts in messages are read by people). */
export function groupDigits(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function formatShape(shape: readonly (number | string)[]): string {
  return `[${shape.join(',')}]`;
}

/**
 * Keeps secrets out of everything the server prints or sends: URL credentials (`rtsp://user:pass@host`), the
 * credential properties of GStreamer elements (`user-pw=...`), and any string known to be secret (the control
 * token, passwords from the config) wherever it appears.
 */

/** Hides user:password in any URL inside a text (log lines, status messages). Up to the last `@` before the path,
 * so a password with an unescaped `@` is hidden whole. */
export function withoutCredentials(text: string): string {
  return text.replace(/([A-Za-z][\w+.-]*:\/\/)[^/\s"'<>]*@/g, '$1***@');
}

/** GStreamer element properties that carry credentials (rtspsrc, souphttpsrc, ...). */
const CREDENTIAL_PROPERTY = /\b((?:user|proxy)-(?:id|pw)|password|passwd)=("(?:[^"\\]|\\.)*"|'[^']*'|[^\s!]+)/gi;

export class SecretMask {
  private readonly secrets: string[];

  /** `secrets`: exact strings to hide wherever they appear (shorter than 4 characters are ignored: too common). */
  constructor(secrets: Iterable<string | null | undefined> = []) {
    const set = new Set<string>();
    for (const s of secrets) if (typeof s === 'string' && s.length >= 4) set.add(s);
    // Longest first, so a secret that contains another is hidden whole.
    this.secrets = [...set].sort((a, b) => b.length - a.length);
  }

  apply(text: string): string {
    let out = withoutCredentials(text).replace(CREDENTIAL_PROPERTY, '$1=***');
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join('***');
    return out;
  }
}

/** The user name and password of every URL in `urls` (percent-decoded too: logs may show either form). */
export function urlSecrets(urls: Iterable<string>): string[] {
  const out: string[] = [];
  for (const u of urls) {
    const m = /^[A-Za-z][\w+.-]*:\/\/([^/\s]*)@/.exec(u);
    const userinfo = m?.[1];
    if (userinfo === undefined) continue;
    const colon = userinfo.indexOf(':');
    for (const part of colon >= 0 ? [userinfo.slice(colon + 1), userinfo] : [userinfo]) {
      out.push(part);
      try {
        out.push(decodeURIComponent(part));
      } catch {
        // not percent-encoded
      }
    }
  }
  return out;
}

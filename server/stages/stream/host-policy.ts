/**
 * Which Host and Origin headers the server answers. A browser tricked by DNS rebinding sends the attacker's name
 * in both (`Host: evil.example:8080`, `Origin: http://evil.example:8080`): it believes it talks to evil.example,
 * which now resolves to this server. Checking Host against the names and addresses this server is really reached
 * by, and Origin against those plus an explicit list, turns that into HTTP 403.
 */
import { isIP } from 'node:net';
import os from 'node:os';

export interface HostPolicyOptions {
  /** server.allowedHosts: extra names or addresses; `.example.com` allows the domain and its subdomains; `*` allows any. */
  allowedHosts: string[];
  /** server.host: the address the server binds. */
  bindHost: string;
  /** server.allowedOrigins: extra browser origins (`http://kiosk.local:8080`). */
  allowedOrigins: string[];
}

const WILDCARD_BINDS = new Set(['0.0.0.0', '::', '[::]', '']);

/** The host name of a Host header (or of an origin's host): lower case, without the port and IPv6 brackets. */
export function hostName(host: string): string | null {
  const h = host.trim().toLowerCase();
  if (h.length === 0 || h.length > 255) return null;
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    if (end < 0) return null;
    const rest = h.slice(end + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return null;
    return h.slice(1, end);
  }
  const m = /^([^:\s/@]+)(?::\d{1,5})?$/.exec(h);
  const name = m?.[1];
  return name === undefined ? null : name.replace(/\.$/, '');
}

function isLoopback(name: string): boolean {
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  return name === '::1';
}

export class HostPolicy {
  private readonly exact = new Set<string>();
  private readonly suffixes: string[] = [];
  private readonly anyHost: boolean;
  private readonly origins: Set<string>;

  constructor(options: HostPolicyOptions) {
    this.anyHost = options.allowedHosts.includes('*');
    for (const h of options.allowedHosts) {
      if (h === '*') continue;
      if (h.startsWith('.')) this.suffixes.push(h.toLowerCase());
      else this.exact.add(hostName(h) ?? h.toLowerCase());
    }
    const bind = options.bindHost.toLowerCase();
    if (WILDCARD_BINDS.has(bind)) {
      // Every address of this machine, and its own name (also as mDNS .local).
      for (const addrs of Object.values(os.networkInterfaces())) for (const a of addrs ?? []) this.exact.add(a.address.toLowerCase().replace(/%.*$/, ''));
      const name = os.hostname().toLowerCase();
      this.exact.add(name);
      this.exact.add(`${name}.local`);
    } else {
      this.exact.add(hostName(bind) ?? bind);
    }
    this.origins = new Set(options.allowedOrigins.map((o) => o.toLowerCase().replace(/\/$/, '')));
  }

  /** True when a request with this Host header may be answered. No Host (HTTP/1.0 tools) is allowed: browsers always send one. */
  hostAllowed(host: string | undefined): boolean {
    if (host === undefined) return true;
    if (this.anyHost) return true;
    const name = hostName(host);
    if (name === null) return false;
    if (isLoopback(name) || this.exact.has(name)) return true;
    return this.suffixes.some((s) => name.endsWith(s) || name === s.slice(1));
  }

  /**
   * True when a WebSocket with this Origin may connect. No Origin: not a browser. Otherwise the origin must be
   * listed in server.allowedOrigins, or be this very server as the browser reached it (same host and port as the
   * Host header, which must itself be allowed).
   */
  originAllowed(origin: string | undefined, host: string | undefined): boolean {
    if (origin === undefined) return true;
    const o = origin.toLowerCase().replace(/\/$/, '');
    if (this.origins.has(o)) return true;
    let url: URL;
    try {
      url = new URL(o);
    } catch {
      return false; // includes "null" (sandboxed frames, file: pages)
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    if (host === undefined || !this.hostAllowed(host)) return false;
    const defaultPort = url.protocol === 'https:' ? '443' : '80';
    const hostPort = /:(\d{1,5})$/.exec(host.trim())?.[1] ?? defaultPort;
    return hostName(url.host) === hostName(host) && (url.port || defaultPort) === hostPort;
  }

  /** For the start-up log. */
  describe(): string {
    if (this.anyHost) return 'any Host (server.allowedHosts has "*": DNS rebinding is not blocked)';
    return ['loopback', ...this.exact, ...this.suffixes.map((s) => `*${s}`)].join(', ');
  }
}

import { promises as fs } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Logger } from '../../util/log.ts';
import type { HostPolicy } from './host-policy.ts';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export interface Endpoint {
  (req: http.IncomingMessage, res: http.ServerResponse): void | Promise<void>;
}

export interface HttpServerOptions {
  hosts: HostPolicy;
  log: Logger;
  /** A connection must have sent its whole request head within this (slow-header connections are closed). */
  headersTimeoutMs: number;
  /** An HTTP connection (not a WebSocket) with nothing going on for this long is closed. */
  idleTimeoutMs: number;
  /** Called for each request refused for its Host header. */
  onForbiddenHost?: () => void;
}

/**
 * The HTTP side: the built viewer from one folder (nothing outside it can be named), plus a few fixed endpoints.
 * Requests whose Host is not this server (DNS rebinding) get 403. No request can throw out of its handler: a file
 * that disappears, a client that resets, a failing endpoint each end that one response.
 */
export function createHttpServer(staticDir: string, endpoints: Record<string, Endpoint>, options: HttpServerOptions): http.Server {
  const root = path.resolve(staticDir);
  const server = http.createServer(
    {
      headersTimeout: options.headersTimeoutMs,
      requestTimeout: Math.max(options.headersTimeoutMs, 30_000),
      keepAliveTimeout: Math.min(5000, options.idleTimeoutMs),
      // How often Node looks for connections past headersTimeout/requestTimeout (its default is 30 s).
      connectionsCheckingInterval: Math.min(1000, options.headersTimeoutMs),
    },
    (req, res) => {
      // The socket's own error handler (ConnectionGuard) counts resets; these must not be uncaught either.
      req.on('error', () => {});
      res.on('error', () => {});
      let done: Promise<void>;
      try {
        done = Promise.resolve(handle(req, res));
      } catch (err) {
        done = Promise.reject(err);
      }
      done.catch((err: Error) => {
        options.log.limited('http-error', `HTTP ${req.method} ${JSON.stringify((req.url ?? '').slice(0, 200))}: ${err.message}`);
        if (res.headersSent) res.destroy();
        else res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error\n');
      });
    },
  );
  server.timeout = options.idleTimeoutMs;
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // Malformed request heads, header timeouts, resets while parsing: answer if the socket still can, then close.
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });
  return server;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (!options.hosts.hostAllowed(req.headers.host)) {
      options.onForbiddenHost?.();
      options.log.limited('forbidden-host', `refused HTTP request for Host ${JSON.stringify(String(req.headers.host).slice(0, 100))} (not in server.allowedHosts)`);
      res.writeHead(403, { 'content-type': 'text/plain' }).end('forbidden host: add it to server.allowedHosts\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      res.writeHead(400).end('bad URL\n');
      return;
    }
    const endpoint = Object.hasOwn(endpoints, pathname) ? endpoints[pathname] : undefined;
    if (endpoint) return endpoint(req, res);
    if (pathname.endsWith('/')) pathname += 'index.html';
    const file = path.resolve(root, `.${pathname}`);
    if (file !== root && !file.startsWith(root + path.sep)) {
      res.writeHead(404).end();
      return;
    }
    await sendFile(req, res, file, pathname);
  }

  /**
   * Opens the file first and then asks the open file for its size, so a file replaced or deleted meanwhile (the
   * viewer rebuilt while serving) is either served whole as it was when opened, or not found.
   */
  async function sendFile(req: http.IncomingMessage, res: http.ServerResponse, file: string, pathname: string): Promise<void> {
    let handle: fs.FileHandle | null = null;
    try {
      handle = await fs.open(file, 'r');
      const stat = await handle.stat();
      if (!stat.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
      const headers: http.OutgoingHttpHeaders = {
        'content-type': MIME[path.extname(file)] ?? 'application/octet-stream',
        'content-length': stat.size,
        'x-content-type-options': 'nosniff',
        'cache-control': pathname.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      };
      if (req.method === 'HEAD' || res.destroyed) {
        res.writeHead(200, headers).end();
        return;
      }
      const stream = handle.createReadStream({ start: 0, end: Math.max(0, stat.size - 1), autoClose: true });
      handle = null; // the stream closes it
      stream.on('error', (err) => {
        options.log.limited('http-error', `reading ${file}: ${err.message}`);
        res.destroy();
      });
      res.on('close', () => stream.destroy());
      res.writeHead(200, headers);
      if (stat.size === 0) {
        stream.destroy();
        res.end();
        return;
      }
      stream.pipe(res);
    } catch (err) {
      await handle?.close().catch(() => {});
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'EISDIR' && code !== 'ENOTDIR') throw err;
      if (pathname === '/index.html') {
        res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`The viewer is not built (${root} has no index.html). Run: npm run build\n`);
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  }
}

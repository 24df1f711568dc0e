/**
 * The small pieces behind issue 18's log hygiene and host checks, one by one: secret masking, one-line escaping,
 * per-kind log limits, token buckets, the Host/Origin policy, and the config fields for the new limits.
 */
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../server/app/config.ts';
import { HostPolicy, hostName } from '../../server/stages/stream/host-policy.ts';
import { effectiveMaxConnections, openFileLimit } from '../../server/stages/stream/connection-guard.ts';
import { createLogger, oneLine, untrusted } from '../../server/util/log.ts';
import { TokenBucket, WindowCounter } from '../../server/util/rate-limit.ts';
import { SecretMask, urlSecrets, withoutCredentials } from '../../server/util/redact.ts';

describe('secrets', () => {
  it('masks URL credentials, GStreamer credential properties and known secrets wherever they appear', () => {
    expect(withoutCredentials('rtspsrc location="rtsp://admin:p@ss@cam.local:554/s1" latency=100')).toBe('rtspsrc location="rtsp://***@cam.local:554/s1" latency=100');
    const mask = new SecretMask(['tok-0123456789abcdef', ...urlSecrets(['rtsp://admin:hunter%402@cam/s'])]);
    expect(mask.apply('rtspsrc user-id=admin user-pw="hunter@2" ! decodebin')).toBe('rtspsrc user-id=*** user-pw=*** ! decodebin');
    expect(mask.apply('Could not connect: password hunter@2 rejected')).toBe('Could not connect: password *** rejected');
    expect(mask.apply('token tok-0123456789abcdef in a stack trace')).toBe('token *** in a stack trace');
    // Short strings are not treated as secrets (they would mask ordinary words).
    expect(new SecretMask(['ab']).apply('tab')).toBe('tab');
  });
});

describe('log lines', () => {
  it('are one line: control characters escaped, long lines cut', () => {
    expect(oneLine('a\nb\r\tc\u0000d\u2028')).toBe('a\\nb\\r\\tc\\u0000d\\u2028');
    expect(oneLine('x'.repeat(5000))).toMatch(/^x{4000}\.\.\. \(1000 more characters\)$/);
    expect(untrusted('set-source\n[segstream] forged')).toBe('"set-source\\n[segstream] forged"');
    expect(untrusted('y'.repeat(100))).toBe(`"${'y'.repeat(64)}..."`);
  });

  it('limited(): a few lines per kind per window, then one count of what was left out', async () => {
    const out: string[] = [];
    const log = createLogger((l) => out.push(l), { burst: 3, windowMs: 200 });
    for (let i = 0; i < 50; i++) log.limited('refused', `refused ${i}`);
    log.limited('other', 'another kind is not held back');
    expect(out).toEqual(['refused 0', 'refused 1', 'refused 2', 'another kind is not held back']);
    await new Promise((r) => setTimeout(r, 300));
    expect(out.at(-1)).toBe('(47 more "refused" lines left out in 0 s)');
    log.limited('refused', 'refused again');
    expect(out.at(-1)).toBe('refused again');
  });

  it('masks secrets in every line, and a failing writer never throws', () => {
    const out: string[] = [];
    createLogger((l) => out.push(l), { mask: new SecretMask(['s3cret-value']) })('url rtsp://u:s3cret-value@h/ and s3cret-value');
    expect(out).toEqual(['url rtsp://***@h/ and ***']);
    expect(() =>
      createLogger(() => {
        throw new Error('EPIPE');
      })('x'),
    ).not.toThrow();
  });
});

describe('rate limits', () => {
  it('TokenBucket: a burst, then the rate', () => {
    let now = 0;
    const b = new TokenBucket(2, 3, () => now);
    expect([b.take(), b.take(), b.take(), b.take()]).toEqual([true, true, true, false]);
    now += 500;
    expect([b.take(), b.take()]).toEqual([true, false]);
    expect(() => new TokenBucket(0, 1)).toThrow(/ratePerSecond > 0/);
  });

  it('WindowCounter: more than N in the window', () => {
    let now = 0;
    const w = new WindowCounter(1000, 3, () => now);
    expect([w.hit(), w.hit(), w.hit(), w.hit()]).toEqual([false, false, false, true]);
    now += 1500;
    expect(w.hit()).toBe(false);
  });
});

describe('Host and Origin policy', () => {
  it('parses Host headers', () => {
    expect(hostName('Example.COM:8080')).toBe('example.com');
    expect(hostName('[::1]:80')).toBe('::1');
    expect(hostName('a.b.')).toBe('a.b');
    for (const bad of ['', 'a b', 'x@y', '[::1', '[::1]x', 'h:p:q']) expect(hostName(bad), bad).toBeNull();
  });

  it('loopback by default; the bind address; configured names and domains; never a rebinding name', () => {
    const p = new HostPolicy({ allowedHosts: ['kiosk.example', '.lan.example'], bindHost: '127.0.0.1', allowedOrigins: ['http://panel.example:9000'] });
    for (const h of ['127.0.0.1:8080', 'localhost:8080', 'app.localhost', '[::1]:8080', '127.0.0.5', 'kiosk.example:8080', 'lan.example', 'cam.lan.example']) expect(p.hostAllowed(h), h).toBe(true);
    for (const h of ['evil.example:8080', 'kiosk.example.evil.example', 'localhost.evil.example', '192.168.1.20:8080', 'xlan.example', '']) expect(p.hostAllowed(h), h).toBe(false);
    expect(p.hostAllowed(undefined)).toBe(true);
    // Origin: this server as reached, or listed.
    expect(p.originAllowed(undefined, '127.0.0.1:8080')).toBe(true);
    expect(p.originAllowed('http://127.0.0.1:8080', '127.0.0.1:8080')).toBe(true);
    expect(p.originAllowed('http://localhost', 'localhost:80')).toBe(true);
    expect(p.originAllowed('http://panel.example:9000', '127.0.0.1:8080')).toBe(true);
    expect(p.originAllowed('http://evil.example:8080', 'evil.example:8080')).toBe(false); // DNS rebinding
    expect(p.originAllowed('http://127.0.0.1:9999', '127.0.0.1:8080')).toBe(false);
    expect(p.originAllowed('null', '127.0.0.1:8080')).toBe(false);
    expect(p.originAllowed('file://', '127.0.0.1:8080')).toBe(false);
    expect(new HostPolicy({ allowedHosts: ['*'], bindHost: '127.0.0.1', allowedOrigins: [] }).hostAllowed('anything.example')).toBe(true);
    expect(new HostPolicy({ allowedHosts: [], bindHost: '192.168.7.7', allowedOrigins: [] }).hostAllowed('192.168.7.7:8080')).toBe(true);
  });
});

describe('file-descriptor headroom', () => {
  it('reads the open-file limit and keeps connections below it', () => {
    expect(openFileLimit()).toBeGreaterThan(0);
    expect(effectiveMaxConnections(512, 8192)).toEqual({ max: 512, warning: null });
    expect(effectiveMaxConnections(512, 1024)).toEqual({ max: 512, warning: null });
    expect(effectiveMaxConnections(512, 200).max).toBe(72);
    expect(effectiveMaxConnections(512, null)).toEqual({ max: 512, warning: null });
  });
});

describe('config: the new limits', () => {
  const base = (server: Record<string, unknown>, watchdog: Record<string, unknown> = {}) => validateConfig({ server, watchdog }, 'c.json', '/tmp');
  it('has safe defaults', () => {
    const c = base({});
    expect(c.server).toMatchObject({ allowedHosts: [], maxClientsPerAddress: 8, maxConnections: 512, maxConnectionsPerAddress: 64, headersTimeoutMs: 10_000, idleTimeoutMs: 30_000, clientBufferBytes: 4 * 1024 * 1024 });
    expect(c.watchdog).toMatchObject({ noOutputMs: 15_000, inferenceFailures: 5 });
  });
  it('names the field and what was expected', () => {
    expect(() => base({ allowedHosts: ['evil example'] })).toThrow('c.json: server.allowedHosts[0]: expected a host name, an IP address, ".domain" or "*", got "evil example"');
    expect(() => base({ maxConnections: 2 })).toThrow('c.json: server.maxConnections: expected an integer from 8 to 100000, got 2');
    expect(() => base({ headersTimeoutMs: 'soon' })).toThrow('server.headersTimeoutMs: expected an integer from 500 to 300000, got "soon"');
    expect(() => base({}, { inferenceFailures: 0 })).toThrow('watchdog.inferenceFailures: expected an integer from 1 to 1000, got 0');
    expect(base({ allowedHosts: ['kiosk.local', '.lan', '192.168.1.20', '[fe80::1]', '*'] }).server.allowedHosts).toHaveLength(5);
  });
});

// The kiosk's DevTools client over a pipe: NUL-framed JSON both ways, replies matched by id (also when split or
// batched), events, timeouts, and every pending command rejected when the browser goes.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DevToolsPipe, DevToolsTimeoutError, type DevToolsEvent } from '../../server/cli/kiosk/devtools-pipe.ts';

function pair() {
  const toBrowser = new PassThrough();
  const fromBrowser = new PassThrough();
  const sent: Record<string, unknown>[] = [];
  toBrowser.on('data', (d: Buffer) => {
    for (const part of d.toString().split('\0').filter(Boolean)) sent.push(JSON.parse(part) as Record<string, unknown>);
  });
  return { pipe: new DevToolsPipe(toBrowser, fromBrowser), fromBrowser, sent };
}

describe('DevToolsPipe', () => {
  it('frames commands with NUL, matches replies by id even when split across chunks or batched', async () => {
    const { pipe, fromBrowser, sent } = pair();
    const a = pipe.send('Runtime.evaluate', { expression: '1' }, 'S1');
    const b = pipe.send('Target.getTargets');
    await new Promise((r) => setImmediate(r));
    expect(sent).toEqual([
      { id: 1, method: 'Runtime.evaluate', params: { expression: '1' }, sessionId: 'S1' },
      { id: 2, method: 'Target.getTargets', params: {} },
    ]);
    const both = `${JSON.stringify({ id: 2, result: { targetInfos: [] } })}\0${JSON.stringify({ id: 1, result: { result: { value: 1 } }, sessionId: 'S1' })}\0`;
    fromBrowser.write(both.slice(0, 10));
    fromBrowser.write(both.slice(10));
    expect(await b).toEqual({ targetInfos: [] });
    expect(await a).toEqual({ result: { value: 1 } });
  });

  it('emits events and rejects protocol errors with the method named', async () => {
    const { pipe, fromBrowser } = pair();
    const events: DevToolsEvent[] = [];
    pipe.on('event', (e) => events.push(e));
    const r = pipe.send('Page.reload', {}, 'S1');
    fromBrowser.write(`${JSON.stringify({ method: 'Inspector.targetCrashed', params: {}, sessionId: 'S1' })}\0${JSON.stringify({ id: 1, error: { code: -32000, message: 'Not attached' } })}\0`);
    await expect(r).rejects.toThrow('Page.reload: Not attached');
    expect(events).toEqual([{ method: 'Inspector.targetCrashed', params: {}, sessionId: 'S1' }]);
  });

  it('times out a command nobody answers (a hung tab), and rejects everything when the pipe closes', async () => {
    const { pipe, fromBrowser } = pair();
    await expect(pipe.send('Runtime.evaluate', {}, 'S1', 50)).rejects.toBeInstanceOf(DevToolsTimeoutError);
    const pending = pipe.send('Runtime.evaluate', {}, 'S1', 10_000);
    fromBrowser.end();
    fromBrowser.destroy();
    await expect(pending).rejects.toThrow('Runtime.evaluate: the browser closed the DevTools pipe');
    expect(pipe.isClosed).toBe(true);
    await expect(pipe.send('Target.getTargets')).rejects.toThrow('Target.getTargets: the DevTools pipe is closed');
  });
});

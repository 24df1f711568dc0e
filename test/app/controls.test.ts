/** Control actions: one table, carried out one at a time, the last request of a kind wins. */
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../server/app/config.ts';
import { CONTROL_HANDLERS, ControlQueue, type ControlTarget } from '../../server/app/controls.ts';
import { CONTROL_ACTION_NAMES, parseControlAction } from '../../server/protocol/index.ts';

function fakeTarget(loadMs = 30) {
  const config = validateConfig(
    {
      sources: { test: { kind: 'test', width: 64, height: 48 }, other: { kind: 'test', width: 64, height: 48 } },
      models: { a: { demo: { variant: 'tiny', size: 64, classes: 4 } }, b: { demo: { variant: 'tiny', size: 64, classes: 4 } }, c: { demo: { variant: 'tiny', size: 64, classes: 4 } } },
      defaultSource: 'test',
      defaultModel: 'a',
    },
    'controls test',
    '/tmp',
  );
  const events: string[] = [];
  let loading = 0;
  let maxLoading = 0;
  const target: ControlTarget & { model: string; events: string[]; maxConcurrentLoads: () => number } = {
    config,
    model: 'a',
    events,
    maxConcurrentLoads: () => maxLoading,
    switchSource: (name) => void events.push(`source ${name}`),
    switchModel: async (name) => {
      loading++;
      maxLoading = Math.max(maxLoading, loading);
      events.push(`load ${name}`);
      await new Promise((r) => setTimeout(r, loadMs));
      target.model = name;
      loading--;
    },
    configurePostprocess: (s) => void events.push(`postprocess ${JSON.stringify(s)}`),
    setJpegQuality: (q) => void events.push(`quality ${q}`),
  };
  return target;
}

describe('control table', () => {
  it('has a handler for every action the protocol names, and no other', () => {
    expect(Object.keys(CONTROL_HANDLERS).sort()).toEqual([...CONTROL_ACTION_NAMES].sort());
  });

  it('checks values against the protocol table before anything runs', () => {
    expect(parseControlAction('set-jpeg-quality', 101)).toEqual({ ok: false, message: 'set-jpeg-quality: expected an integer from 1 to 100' });
    expect(parseControlAction('set-postprocess', 'bicubic')).toEqual({ ok: false, message: 'set-postprocess: expected one of boundary, exact, lowres' });
    expect(parseControlAction('set-source', 42)).toEqual({ ok: false, message: 'set-source: expected a source name from the server config' });
    expect(parseControlAction('run\nforged line', 1)).toEqual({ ok: false, message: 'unknown action "run\\nforged line"; expected one of set-source, set-model, set-postprocess, set-jpeg-quality, set-smoothing' });
    expect(parseControlAction('set-smoothing', 3)).toEqual({ ok: true, action: { action: 'set-smoothing', value: 3 } });
  });

  it('refuses names that are not configured, including inherited property names', async () => {
    const q = new ControlQueue(fakeTarget());
    await expect(q.run({ action: 'set-source', value: 'constructor' })).rejects.toThrow('set-source: unknown source "constructor"; configured: test, other');
    await expect(q.run({ action: 'set-model', value: '__proto__' })).rejects.toThrow('set-model: unknown model "__proto__"; configured: demo, a, b, c');
  });
});

describe('control queue', () => {
  it('never runs two model loads at once, and the last of concurrent requests wins', async () => {
    const target = fakeTarget();
    const q = new ControlQueue(target);
    const first = q.run({ action: 'set-model', value: 'b' });
    await new Promise((r) => setTimeout(r, 5)); // the first load is under way
    const later = ['c', 'b', 'c', 'a', 'b'].map((m) => q.run({ action: 'set-model', value: m }));
    const replies = await Promise.allSettled([first, ...later]);
    expect(target.maxConcurrentLoads()).toBe(1);
    expect(target.model).toBe('b');
    // The first started at once; of those that waited, only the last ran; the rest say they were not applied.
    expect(replies.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'rejected', 'rejected', 'fulfilled']);
    expect((replies[5] as PromiseFulfilledResult<string>).value).toBe('model is now b');
    expect((replies[1] as PromiseRejectedResult).reason.message).toBe('set-model: superseded by a later set-model request, which is applied instead');
    expect(target.events).toEqual(['load b', 'load b']);
  });

  it('runs different actions in the order they came, one after the other', async () => {
    const target = fakeTarget();
    const q = new ControlQueue(target);
    const done = await Promise.all([
      q.run({ action: 'set-model', value: 'c' }),
      q.run({ action: 'set-jpeg-quality', value: 55 }),
      q.run({ action: 'set-smoothing', value: 3 }),
      q.run({ action: 'set-postprocess', value: 'lowres' }),
    ]);
    expect(done).toEqual(['model is now c', 'JPEG quality is now 55', 'server smoothing is now the majority of 3 frames', 'post-processing is now lowres']);
    expect(target.events).toEqual(['load c', 'quality 55', 'postprocess {"smoothing":3}', 'postprocess {"mode":"lowres"}']);
  });

  it('of requests that arrive together, carries out only the last of each kind', async () => {
    const target = fakeTarget();
    const q = new ControlQueue(target);
    const replies = await Promise.allSettled([3, 5, 0].map((w) => q.run({ action: 'set-smoothing', value: w })));
    expect(replies.map((r) => r.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
    expect(target.events).toEqual(['postprocess {"smoothing":0}']);
  });
});

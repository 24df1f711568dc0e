/**
 * The child process behind ModelOnlyProcess (model-only.ts): loads the model with the stream's own loader and
 * times it on a fixed input, one segment at a time, when the bench asks.
 */
import { tuneMallocWithoutRuntimeArena } from '../kernels/index.ts';
import type { Backend, InferenceResult } from '../stages/infer/backend.ts';
import { loadBackend } from '../stages/infer/load-backend.ts';
import { fixedInputFor, type ModelOnlyReply, type ModelOnlyRequest } from './model-only.ts';

if (!process.send) throw new Error('model-only-child.ts runs as the model-only child process of segstream bench');
const send = (m: ModelOnlyReply) => process.send!(m);

let backend: Backend | null = null;
let runOnce: (() => Promise<InferenceResult>) | null = null;

process.on('message', (m: ModelOnlyRequest) => {
  void handle(m).catch((err: Error) => send({ type: 'error', message: err.message }));
});
// The bench went away: nothing is left to measure for.
process.on('disconnect', () => process.exit(0));

async function handle(m: ModelOnlyRequest): Promise<void> {
  switch (m.type) {
    case 'load': {
      // As the server does with the arena off (app.ts startAll), before the runtime starts its threads.
      if (!m.memoryArena) tuneMallocWithoutRuntimeArena();
      backend = await loadBackend(m.model, { threads: m.threads, memoryArena: m.memoryArena });
      const b = backend;
      const input = fixedInputFor(b.model);
      runOnce = () => {
        if ('tensor' in input) return b.run(input.tensor);
        if (!b.runNv12) throw new Error(`the ${b.kind} backend cannot take the NV12 input model ${b.model.name} declares`);
        return b.runNv12(input.nv12);
      };
      for (let i = 0; i < m.warmupRuns; i++) await runOnce();
      const { input: spec } = b.model;
      send({ type: 'loaded', model: b.model.name, input: `${spec.name} ${spec.kind} ${spec.width}x${spec.height}`, rssBytes: process.memoryUsage.rss() });
      return;
    }
    case 'segment': {
      if (!runOnce) throw new Error('no model is loaded');
      for (let i = 0; i < m.warmupRuns; i++) await runOnce();
      const ms: number[] = [];
      const cpuStart = process.cpuUsage();
      const wallStart = performance.now();
      for (let i = 0; i < m.runs; i++) ms.push((await runOnce()).inferMs);
      const wallS = (performance.now() - wallStart) / 1000;
      const cpu = process.cpuUsage(cpuStart);
      send({ type: 'segment', ms, wallS, cpuS: (cpu.user + cpu.system) / 1e6, rssBytes: process.memoryUsage.rss() });
      return;
    }
    case 'close':
      await backend?.close();
      backend = null;
      runOnce = null;
      send({ type: 'closed' });
      process.disconnect();
      return;
  }
}

import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread from a TypeScript module. The project runs TypeScript through tsx; a worker does not
 * inherit loaders registered on the main thread, so a small JavaScript entry registers tsx in the worker and
 * then imports the module. The module's own workerData is `workerData.data`.
 */
export function startTsWorker(moduleUrl: URL, options: WorkerOptions = {}): Worker {
  if (!moduleUrl.pathname.endsWith('.ts')) return new Worker(moduleUrl, options);
  return new Worker(new URL('./worker-bootstrap.mjs', import.meta.url), {
    ...options,
    workerData: { segstreamTsModule: moduleUrl.href, data: options.workerData },
  });
}

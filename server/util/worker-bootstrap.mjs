// Worker entry for TypeScript worker modules: registers tsx in this thread, then loads the real module.
import { workerData } from 'node:worker_threads';

const { register } = await import('tsx/esm/api');
register();
await import(workerData.segstreamTsModule);

// Worker body for worker.test.ts: loads the kernels in a worker thread and returns one tensor.
import { parentPort, workerData } from 'node:worker_threads';
import { rgbToTensor } from '../../server/kernels/index.ts';

// startTsWorker wraps this module's data as workerData.data.
const { rgb } = (workerData as { data: { rgb: Uint8Array } }).data;
const out = rgbToTensor(rgb, 120, 80, { width: 64, height: 48, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
parentPort?.postMessage(out);

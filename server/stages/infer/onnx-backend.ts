import ort from 'onnxruntime-node';
import type { Backend, BackendOptions, InferenceResult } from './backend.ts';
import type { ModelInfo, Tensor, TensorDType } from '../../model/model-info.ts';

/** ONNX Runtime (CPU) backend. Session.run blocks its thread, so this runs inside the inference worker. */
export class OnnxBackend implements Backend {
  readonly kind = 'onnx' as const;
  readonly accepts = ['tensor'] as const;

  private constructor(
    readonly model: ModelInfo,
    private readonly session: ort.InferenceSession,
  ) {}

  static async load(model: ModelInfo, options: BackendOptions = {}): Promise<OnnxBackend> {
    const threads = options.threads ?? 0;
    if (!Number.isInteger(threads) || threads < 0 || threads > 256) {
      throw new Error(`threads: expected an integer from 0 (runtime default) to 256, got ${JSON.stringify(threads)}`);
    }
    const level = options.graphOptimization ?? 'all';
    if (level !== 'all' && level !== 'disabled') {
      throw new Error(`graphOptimization: expected 'all' or 'disabled', got ${JSON.stringify(level)}`);
    }
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(model.path, {
        executionProviders: ['cpu'],
        graphOptimizationLevel: level,
        executionMode: 'sequential',
        enableCpuMemArena: options.memoryArena ?? true,
        ...(threads > 0 ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
      });
    } catch (err) {
      throw new Error(`${model.path}: ONNX Runtime could not load the model: ${(err as Error).message}`, { cause: err });
    }
    return new OnnxBackend(model, session);
  }

  async run(input: Tensor): Promise<InferenceResult> {
    const feeds = { [this.model.input.name]: new ort.Tensor(input.dtype, input.data as Float32Array, input.shape) };
    const start = performance.now();
    const results = await this.session.run(feeds, [this.model.output.name]);
    const inferMs = performance.now() - start;
    const out = results[this.model.output.name];
    if (!out) throw new Error(`${this.model.path}: ONNX Runtime returned no output named ${this.model.output.name}`);
    return {
      output: { dtype: out.type as TensorDType, shape: [...out.dims], data: out.data as Tensor['data'] },
      inferMs,
    };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

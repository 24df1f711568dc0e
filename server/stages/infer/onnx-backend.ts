import ort from 'onnxruntime-node';
import type { Backend, BackendOptions, InferenceResult } from './backend.ts';
import { perTensorQuantization, type ModelInfo, type Tensor, type TensorDType } from '../../model/model-info.ts';
import { float32ToFloat16, quantizeTensor } from '../../kernels/index.ts';

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
    try {
      const resolved = model.output.height > 0 && model.output.width > 0 ? model : await warmUp(model, session);
      return new OnnxBackend(resolved, session);
    } catch (err) {
      await session.release();
      throw err;
    }
  }

  async run(input: Tensor): Promise<InferenceResult> {
    const t = toModelType(this.model, input);
    const feeds = { [this.model.input.name]: new ort.Tensor(t.dtype, t.data as Float32Array, t.shape) };
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

/**
 * A tensor in the model's element type. A float32 tensor of normalised values is accepted for any model that
 * does not take raw pixels, and converted here (float16 in the kernels, quantised integers as the input's
 * DequantizeLinear reads them), so callers that prepare float32 (verify's reference input) need not know.
 */
function toModelType(model: ModelInfo, input: Tensor): Tensor {
  const want = model.input.dtype;
  if (input.dtype === want) return input;
  if (input.dtype === 'float32' && input.data instanceof Float32Array) {
    if (want === 'float16') return { dtype: want, shape: input.shape, data: float32ToFloat16(input.data) };
    const q = model.input.quantization;
    if (q && (want === 'uint8' || want === 'int8')) {
      const { scale, zeroPoint } = perTensorQuantization(q, `${model.path}: input "${model.input.name}" quantization`);
      return { dtype: want, shape: input.shape, data: quantizeTensor(input.data, { dtype: want, scale, zeroPoint }) };
    }
  }
  throw new Error(`${model.path}: input "${model.input.name}" takes ${want}, got a ${input.dtype} tensor`);
}

/**
 * The output size of a model whose graph does not tell it (an operator shape propagation does not follow): one
 * inference at the model's input size, before the first frame, so the stages never see a 0.
 */
async function warmUp(model: ModelInfo, session: ort.InferenceSession): Promise<ModelInfo> {
  const i = model.input;
  const shape = i.layout === 'NCHW' ? [1, 3, i.height, i.width] : [1, i.height, i.width, 3];
  const n = 3 * i.height * i.width;
  const data = i.dtype === 'float16' ? new Uint16Array(n) : i.dtype === 'uint8' ? new Uint8Array(n) : i.dtype === 'int8' ? new Int8Array(n) : new Float32Array(n);
  const results = await session.run({ [i.name]: new ort.Tensor(i.dtype, data as Float32Array, shape) }, [model.output.name]);
  const dims = [...(results[model.output.name]?.dims ?? [])];
  const o = model.output;
  const [h, w] = dims.length === 3 ? [dims[1], dims[2]] : o.layout === 'NCHW' ? [dims[2], dims[3]] : [dims[1], dims[2]];
  if (!h || !w) throw new Error(`${model.path}: output "${o.name}" came back as [${dims.join(', ')}] from a warm-up inference at ${i.height}x${i.width}; expected ${o.kind === 'logits' ? 'logits' : 'a class map'} of rank 3 or 4`);
  return {
    ...model,
    output: { ...o, height: h, width: w },
    details: { ...model.details, outputShape: `from a warm-up inference at ${i.height}x${i.width} (the graph did not tell): [${dims.join(', ')}]` },
  };
}

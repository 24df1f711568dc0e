/**
 * The RDK X5 BPU backend: runs a Horizon-compiled model (.bin, march bayes-e) through the board's hb_dnn C API,
 * or, off the board, through segstream's hb_dnn test double (native/testing) with the same code.
 *
 * The model's tensor properties decide everything: NV12 input (packed, or NV12_SEPARATE keeping the frame's row
 * stride), YUV444/RGB/BGR or featuremap tensors; outputs read through their strides (aligned padding skipped)
 * and dequantised to float32, or handed over as raw integers with the scales (`rawIntOutput`), or passed through
 * as a class map when argmax is folded into the model. Inference runs on the libuv thread pool, one per model
 * in flight (two with `pipelineDepth: 2`); BPU memory is allocated once at load and freed by close().
 */
import type { Nv12Image } from '../frame-context.ts';
import type { Backend, InferenceResult } from './backend.ts';
import type { ModelInfo, Tensor } from '../../model/model-info.ts';
import { BpuBackendError, checkModelFiles, explainLoadFailure, fromNative } from './bpu/errors.ts';
import { buildModelInfo, inputDType, planOutput, type OutputPlan } from './bpu/model-info.ts';
import { NATIVE_OUTPUT_TYPE, nativeBpu, bpuAddonPath, type NativeBpu, type NativeModel } from './bpu/native.ts';
import { axesOf, toTensorInfo, type BpuTensorInfo } from './bpu/tensor-info.ts';
import { validateLoadArgs, validateNv12Input, validateTensorInput, type BpuLoadOptions } from './bpu/validate.ts';

export { BpuBackendError } from './bpu/errors.ts';
export type { BpuTensorInfo, BpuTensorType, BpuQuantization } from './bpu/tensor-info.ts';
export type { BpuLoadOptions } from './bpu/validate.ts';

export interface BpuAvailability {
  available: boolean;
  mode: 'board' | 'test-double' | 'none';
  reason: string;
}

/** Whether the BPU backend can run here, and on what. */
export function bpuAvailability(): BpuAvailability {
  let addon: NativeBpu;
  try {
    addon = nativeBpu();
  } catch (err) {
    return { available: false, mode: 'none', reason: (err as Error).message };
  }
  if (addon.runtime === 'board') {
    return {
      available: true,
      mode: 'board',
      reason: `built against the board's hb_dnn headers and libdnn (${addon.arch})`,
    };
  }
  return {
    available: true,
    mode: 'test-double',
    reason:
      `built without the board's hb_dnn (no dnn/hb_dnn.h + libdnn.so found at build time): the addon ${bpuAddonPath()} ` +
      `is linked against segstream's hb_dnn test double, whose models are JSON descriptions with synthetic outputs`,
  };
}

type OutputArray = Float32Array | Int8Array | Uint8Array | Int16Array | Int32Array;

function allocateOutput(plan: OutputPlan, length: number): OutputArray {
  switch (plan.dtype) {
    case 'float32':
      return new Float32Array(length);
    case 'int8':
      return new Int8Array(length);
    case 'uint8':
      return new Uint8Array(length);
    case 'int16':
      return new Int16Array(length);
    case 'int32':
      return new Int32Array(length);
  }
}

export class BpuBackend implements Backend {
  readonly kind = 'bpu' as const;
  readonly accepts = ['tensor', 'nv12'] as const;
  private readonly freeSlots: number[];
  private readonly waiting: Array<{ resolve: (slot: number) => void; reject: (err: Error) => void }> = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private closed = false;
  private closing: Promise<void> | null = null;
  private readonly subject: string;
  private readonly outputLength: number;

  private constructor(
    readonly model: ModelInfo,
    readonly tensorInfo: { inputs: BpuTensorInfo[]; outputs: BpuTensorInfo[] },
    private readonly native: NativeModel,
    private readonly plan: OutputPlan,
    readonly files: string[],
    slots: number,
  ) {
    this.freeSlots = Array.from({ length: slots }, (_, i) => i);
    this.subject = `model '${model.name}' in ${files.map((f) => `'${f}'`).join(', ')}`;
    this.outputLength = tensorInfo.outputs[0]!.validShape.reduce((a, b) => a * b, 1);
  }

  /** Loads `opts.modelName` (default: the first model) from one or more packed .bin files. */
  static async load(files: string[], opts?: BpuLoadOptions): Promise<BpuBackend> {
    const args = validateLoadArgs(files, opts);
    const list = args.files;
    let addon: NativeBpu;
    try {
      addon = nativeBpu();
    } catch (err) {
      throw new BpuBackendError(`BPU backend unavailable: ${(err as Error).message}`, 'unavailable', list, undefined, undefined, { cause: err });
    }
    await checkModelFiles(list);
    const slots = args.opts.pipelineDepth ?? 1;
    let native: NativeModel;
    try {
      native = await addon.loadModel(list, args.opts.modelName ?? '', slots);
    } catch (err) {
      const wrapped = fromNative(err, list);
      throw (await explainLoadFailure(wrapped)) ?? wrapped;
    }
    try {
      const d = native.describe();
      const inputs = d.inputs.map(toTensorInfo);
      const outputs = d.outputs.map(toTensorInfo);
      const subject = `model '${d.name}' in ${list.map((f) => `'${f}'`).join(', ')}`;
      const plan = planOutput(outputs[0]!, args.opts.rawIntOutput ?? false, subject, list);
      const classes = outputs[0]!.validShape[axesOf(outputs[0]!).c];
      if (plan.kind === 'logits' && args.opts.classNames && args.opts.classNames.length !== classes) {
        throw new BpuBackendError(
          `BpuBackend.load opts.classNames: ${subject} outputs ${classes} classes, got ${args.opts.classNames.length} names`,
          'invalid-argument',
          list,
        );
      }
      if (inputDType(inputs[0]!.tensorType) === null && inputs[0]!.tensorType !== 'NV12' && inputs[0]!.tensorType !== 'NV12_SEPARATE') {
        // The addon rejects these at load; this guards a mismatch between the two lists.
        throw new BpuBackendError(`unsupported input type ${inputs[0]!.tensorType} for ${subject}`, 'unsupported-input-type', list);
      }
      const model = buildModelInfo({
        name: d.name,
        files: list,
        modelNames: d.modelNames,
        input: inputs[0]!,
        output: outputs[0]!,
        outputCount: outputs.length,
        plan,
        runtime: addon.runtime,
        pipelineDepth: slots,
        ...(args.opts.classNames ? { classNames: args.opts.classNames } : {}),
      });
      return new BpuBackend(model, { inputs, outputs }, native, plan, list, slots);
    } catch (err) {
      native.close();
      throw err instanceof BpuBackendError ? err : fromNative(err, list);
    }
  }

  /** Runs a tensor input (featuremap F32/S8/U8, or RGB/BGR/YUV444 uint8) of exactly the input's valid shape. */
  async run(input: Tensor): Promise<InferenceResult> {
    this.assertOpen();
    if (this.model.input.kind === 'nv12') {
      throw new BpuBackendError(`${this.subject} takes NV12 input: call runNv12(image)`, 'invalid-argument', this.files);
    }
    const info = this.tensorInfo.inputs[0]!;
    const tensor = validateTensorInput(input, this.model.input.dtype, info.validShape, this.subject, this.files);
    const data = tensor.data as Uint8Array | Int8Array | Float32Array;
    return this.execute(data, null);
  }

  /** Runs an NV12 image at the model's size: packed models get it packed, NV12_SEPARATE models keep its stride. */
  async runNv12(image: Nv12Image): Promise<InferenceResult> {
    this.assertOpen();
    if (this.model.input.kind !== 'nv12') {
      const info = this.tensorInfo.inputs[0]!;
      throw new BpuBackendError(
        `${this.subject} takes a ${info.tensorType} ${info.layout} tensor input, not NV12: call run(tensor)`,
        'invalid-argument',
        this.files,
      );
    }
    const img = validateNv12Input(image, this.model.input.width, this.model.input.height, this.subject, this.files);
    const geometry = { width: img.width, height: img.height, strideY: img.strideY, strideUV: img.strideUV, offsetUV: img.offsetUV };
    return this.execute(img.data, geometry);
  }

  /** Waits for inferences in flight, then frees the BPU memory and releases the model. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.reject(this.closedError());
    this.closing = (async () => {
      await Promise.allSettled([...this.inFlight]);
      try {
        this.native.close();
      } catch (err) {
        throw fromNative(err, this.files);
      }
    })();
    return this.closing;
  }

  private async execute(data: Uint8Array | Int8Array | Float32Array, nv12: Parameters<NativeModel['run']>[2]): Promise<InferenceResult> {
    const slot = await this.acquireSlot();
    if (this.closed) {
      // close() began while this run waited for its slot: it must not start now.
      this.releaseSlot(slot);
      throw this.closedError();
    }
    const output = allocateOutput(this.plan, this.outputLength);
    const running = this.native.run(slot, data, nv12, output, NATIVE_OUTPUT_TYPE[this.plan.dtype]);
    this.inFlight.add(running);
    try {
      const inferMs = await running;
      return { output: { dtype: this.plan.dtype, shape: [...this.tensorInfo.outputs[0]!.validShape], data: output }, inferMs };
    } catch (err) {
      throw fromNative(err, this.files);
    } finally {
      this.inFlight.delete(running);
      this.releaseSlot(slot);
    }
  }

  private acquireSlot(): Promise<number> {
    if (this.closed) return Promise.reject(this.closedError());
    const slot = this.freeSlots.shift();
    if (slot !== undefined) return Promise.resolve(slot);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private releaseSlot(slot: number): void {
    const next = this.waiting.shift();
    if (next && !this.closed) next.resolve(slot);
    else this.freeSlots.push(slot);
  }

  private assertOpen(): void {
    if (this.closed) throw this.closedError();
  }

  private closedError(): BpuBackendError {
    return new BpuBackendError(`${this.subject} is closed`, 'closed', this.files);
  }
}

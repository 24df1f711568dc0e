/**
 * The RDK X5 BPU backend: runs a Horizon-compiled model (.bin, march bayes-e) through the board's hb_dnn C API,
 * or, off the board, through segstream's hb_dnn test double (native/testing) with the same code.
 *
 * The model's tensor properties decide everything: NV12 input (compiled models report NV12; segstream switches
 * the tensor to NV12_SEPARATE with a 16-aligned row stride, or feeds it packed on request), YUV444/RGB/BGR or
 * featuremap tensors; outputs read through their strides (aligned padding skipped) and dequantised to float32, or
 * handed over as raw integers with the scales (`rawIntOutput`), or passed through as a class map when argmax is
 * folded into the model. Inference runs on the libuv thread pool, one per model in flight (two with
 * `pipelineDepth: 2`); BPU memory is allocated once at load and freed by close(). `runNv12With` lends the BPU
 * input memory so a frame can be written (e.g. resized) straight into it: no copy at all.
 */
import type { Nv12Image } from '../frame-context.ts';
import type { Backend, InferenceResult } from './backend.ts';
import type { ModelInfo, Tensor } from '../../model/model-info.ts';
import { BpuBackendError, checkModelFiles, explainLoadFailure, explainRunFailure, fileCompiledForX3, fromNative } from './bpu/errors.ts';
import { buildModelInfo, inputDType, planOutput, type OutputPlan } from './bpu/model-info.ts';
import { NATIVE_OUTPUT_TYPE, nativeBpu, bpuAddonPath, type NativeBpu, type NativeModel } from './bpu/native.ts';
import { axesOf, toTensorInfo, type BpuTensorInfo } from './bpu/tensor-info.ts';
import { resolveNv12Feed, validateLoadArgs, validateNv12Input, validateTensorInput, type BpuLoadOptions } from './bpu/validate.ts';

export { BpuBackendError } from './bpu/errors.ts';
export { isBpuTestDouble } from './bpu/model-info.ts';
export type { BpuTensorInfo, BpuTensorType, BpuQuantization } from './bpu/tensor-info.ts';
export type { BpuLoadOptions, Nv12Feed } from './bpu/validate.ts';

/** How long close() waits for released (cancelled) tasks to leave the runtime before giving up on their memory. */
const CLOSE_WAIT_MS = 10_000;
const CLOSE_POLL_MS = 20;

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

/** The tensors segstream feeds and reads (the first of each list), or an error when the model lacks one. */
function primaryTensors(lists: { inputs: BpuTensorInfo[]; outputs: BpuTensorInfo[] }, subject: string, files: string[]): { input: BpuTensorInfo; output: BpuTensorInfo } {
  const [input] = lists.inputs;
  const [output] = lists.outputs;
  if (!input || !output) {
    throw new BpuBackendError(`${subject} has ${lists.inputs.length} inputs and ${lists.outputs.length} outputs; segstream needs at least one of each`, 'unsupported-model', files);
  }
  return { input, output };
}

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
  private readonly input: BpuTensorInfo;
  private readonly output: BpuTensorInfo;
  /** Set once a run proved the model cannot run on this BPU: later runs fail at once with it. */
  private incompatible: BpuBackendError | null = null;
  /** The model file naming the X3's march, looked up at the first failed wait (undefined: not yet). */
  private x3File: string | null | undefined;

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
    ({ input: this.input, output: this.output } = primaryTensors(tensorInfo, this.subject, files));
    this.outputLength = this.output.validShape.reduce((a, b) => a * b, 1);
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
    const nv12Feed = resolveNv12Feed(args.opts.nv12Feed);
    let native: NativeModel;
    try {
      native = await addon.loadModel(list, args.opts.modelName ?? '', slots, nv12Feed);
    } catch (err) {
      const wrapped = fromNative(err, list);
      throw (await explainLoadFailure(wrapped)) ?? wrapped;
    }
    try {
      const d = native.describe();
      const inputs = d.inputs.map(toTensorInfo);
      const outputs = d.outputs.map(toTensorInfo);
      const subject = `model '${d.name}' in ${list.map((f) => `'${f}'`).join(', ')}`;
      const { input, output } = primaryTensors({ inputs, outputs }, subject, list);
      const plan = planOutput(output, args.opts.rawIntOutput ?? false, subject, list);
      const classes = output.validShape[axesOf(output).c];
      if (plan.kind === 'logits' && args.opts.classNames && args.opts.classNames.length !== classes) {
        throw new BpuBackendError(
          `BpuBackend.load opts.classNames: ${subject} outputs ${classes} classes, got ${args.opts.classNames.length} names`,
          'invalid-argument',
          list,
        );
      }
      if (inputDType(input.tensorType) === null && input.tensorType !== 'NV12' && input.tensorType !== 'NV12_SEPARATE') {
        // The addon rejects these at load; this guards a mismatch between the two lists.
        throw new BpuBackendError(`unsupported input type ${input.tensorType} for ${subject}`, 'unsupported-input-type', list);
      }
      const model = buildModelInfo({
        name: d.name,
        files: list,
        modelNames: d.modelNames,
        input,
        output,
        outputCount: outputs.length,
        plan,
        runtime: addon.runtime,
        pipelineDepth: slots,
        inputSource: d.inputSource,
        nv12Feed: d.nv12Feed,
        nv12Stride: d.nv12Stride,
        ...(args.opts.classNames ? { classNames: args.opts.classNames } : {}),
      });
      return new BpuBackend(model, { inputs, outputs }, native, plan, list, slots);
    } catch (err) {
      try {
        native.close(true);
      } catch {
        // the reason the load failed matters more than a failure to clean up after it
      }
      throw err instanceof BpuBackendError ? err : fromNative(err, list);
    }
  }

  /** Runs a tensor input (featuremap F32/S8/U8, or RGB/BGR/YUV444 uint8) of exactly the input's valid shape. */
  async run(input: Tensor): Promise<InferenceResult> {
    this.assertOpen();
    if (this.model.input.kind === 'nv12') {
      throw new BpuBackendError(`${this.subject} takes NV12 input: call runNv12(image)`, 'invalid-argument', this.files);
    }
    const info = this.input;
    const tensor = validateTensorInput(input, this.model.input.dtype, info.validShape, this.subject, this.files);
    const data = tensor.data as Uint8Array | Int8Array | Float32Array;
    return this.execute(() => ({ data, nv12: null }));
  }

  /** Runs an NV12 image at the model's size; its Y and UV rows are copied straight into the BPU input planes. */
  async runNv12(image: Nv12Image): Promise<InferenceResult> {
    this.assertNv12();
    const img = validateNv12Input(image, this.model.input.width, this.model.input.height, this.subject, this.files);
    const geometry = { width: img.width, height: img.height, strideY: img.strideY, strideUV: img.strideUV, offsetUV: img.offsetUV };
    return this.execute(() => ({ data: img.data, nv12: geometry }));
  }

  /**
   * Lends the BPU input memory of a free slot as an NV12 image at the model's size (Y rows then UV rows, at the
   * row stride the runtime is told) to `fill`, which writes the frame into it (e.g. resizeNv12 with `out`), then
   * runs it: nothing is copied. The image must not be used after `fill` returns (its buffer is detached once the
   * memory behind it is replaced or freed).
   */
  async runNv12With(fill: (target: Nv12Image) => void): Promise<InferenceResult> {
    this.assertNv12();
    if (typeof fill !== 'function') {
      throw new BpuBackendError(`runNv12With(fill) for ${this.subject}: expected a function, got ${typeof fill}`, 'invalid-argument', this.files);
    }
    return this.execute((slot) => {
      const t = this.native.inputImage(slot);
      const target: Nv12Image = {
        data: new Uint8Array(t.buffer, 0, t.offsetUV + t.stride * (t.height / 2)),
        width: t.width,
        height: t.height,
        strideY: t.stride,
        strideUV: t.stride,
        offsetUV: t.offsetUV,
      };
      fill(target);
      return { data: target.data, nv12: { width: t.width, height: t.height, strideY: t.stride, strideUV: t.stride, offsetUV: t.offsetUV } };
    });
  }

  /** Bytes copied from callers' frames and tensors into BPU memory so far (runs through runNv12With copy none). */
  counters(): { inputBytesCopied: number } {
    return { inputBytesCopied: this.native.counters().inputBytesCopied };
  }

  /**
   * Waits for inferences in flight, then frees the BPU memory and releases the model. Memory of a task released
   * after a failed wait is freed only once the runtime lets the model go (it may still be running that task).
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.reject(this.closedError());
    this.closing = (async () => {
      await Promise.allSettled([...this.inFlight]);
      try {
        const deadline = Date.now() + CLOSE_WAIT_MS;
        while (!this.native.close(Date.now() >= deadline)) await new Promise((r) => setTimeout(r, CLOSE_POLL_MS));
      } catch (err) {
        throw fromNative(err, this.files);
      }
    })();
    return this.closing;
  }

  private assertNv12(): void {
    this.assertOpen();
    if (this.model.input.kind !== 'nv12') {
      const info = this.input;
      throw new BpuBackendError(
        `${this.subject} takes a ${info.tensorType} ${info.layout} tensor input, not NV12: call run(tensor)`,
        'invalid-argument',
        this.files,
      );
    }
  }

  /** Runs on a slot: `prepare` gives the input for it (and may write into the slot's memory first). */
  private async execute(
    prepare: (slot: number) => { data: Uint8Array | Int8Array | Float32Array; nv12: Parameters<NativeModel['run']>[2] },
  ): Promise<InferenceResult> {
    if (this.incompatible) throw this.incompatible;
    const slot = await this.acquireSlot();
    if (this.closed) {
      // close() began while this run waited for its slot: it must not start now.
      this.releaseSlot(slot);
      throw this.closedError();
    }
    let running: Promise<number>;
    const output = allocateOutput(this.plan, this.outputLength);
    try {
      const input = prepare(slot);
      running = this.native.run(slot, input.data, input.nv12, output, NATIVE_OUTPUT_TYPE[this.plan.dtype]);
    } catch (err) {
      this.releaseSlot(slot);
      throw fromNative(err, this.files);
    }
    this.inFlight.add(running);
    try {
      const inferMs = await running;
      return { output: { dtype: this.plan.dtype, shape: [...this.output.validShape], data: output }, inferMs };
    } catch (err) {
      throw await this.explain(fromNative(err, this.files));
    } finally {
      this.inFlight.delete(running);
      this.releaseSlot(slot);
    }
  }

  /** A failed wait may be a model built for another chip: say so (and stop running it when that is certain). */
  private async explain(err: BpuBackendError): Promise<BpuBackendError> {
    if (err.call !== 'hbDNNWaitTaskDone') return err;
    if (this.x3File === undefined) this.x3File = await fileCompiledForX3(this.files);
    const explained = explainRunFailure(err, this.x3File);
    if (explained.reason === 'incompatible-platform') this.incompatible = explained;
    return explained;
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

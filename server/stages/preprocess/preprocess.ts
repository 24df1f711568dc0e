/**
 * The preprocess stage: a camera frame (NV12, any size) -> the input its model takes, as the model was trained
 * (server/model reads this from the model's files): a normalised tensor at the model's size in the model's element
 * type (float32; float16 converted by the kernels; the integers of a quantised input; raw uint8 pixels for a
 * model that normalises them itself), or, for models compiled for NV12 input (BPU), the frame resized to the
 * model's size. Runs in the inference worker.
 */
import * as kernels from '../../kernels/index.ts';
import { perTensorQuantization, type ModelInfo, type Tensor } from '../../model/model-info.ts';
import type { ColorModel, Nv12Image } from '../frame-context.ts';
import type { ModelInput } from '../infer/backend.ts';

export class Preprocessor {
  /** The float32 tensor, reused frame after frame (a fresh multi-megabyte buffer costs page faults each time). */
  private tensorBuffer: Float32Array | null = null;
  /** The model's own element type's buffer when it is not float32, reused too. */
  private typedBuffer: Uint16Array | Uint8Array | Int8Array | null = null;

  constructor(private readonly model: ModelInfo) {
    const { dtype, quantization, name } = model.input;
    if (model.input.kind === 'tensor' && dtype !== 'float32' && dtype !== 'float16' && dtype !== 'uint8' && !(dtype === 'int8' && quantization)) {
      throw new Error(`${model.path}: input "${name}" is ${dtype}; segstream feeds float32, float16, uint8 (raw or quantised) or quantised int8 inputs`);
    }
  }

  /** NV12 models whose backend lends its input memory: the frame resized straight into `target`. */
  resizeInto(image: Nv12Image, target: Nv12Image): void {
    kernels.resizeNv12(image, this.model.input.width, this.model.input.height, { out: target });
  }

  run(image: Nv12Image, color: Pick<ColorModel, 'matrix' | 'range'>): ModelInput {
    const input = this.model.input;
    if (input.kind === 'nv12') {
      // The backend takes the frame with its strides; only its size has to match the model.
      const sized = image.width === input.width && image.height === input.height ? image : kernels.resizeNv12(image, input.width, input.height);
      return { kind: 'nv12', image: sized };
    }
    const { channelOrder } = this.model.preprocess;
    // A uint8 input without quantisation parameters takes the raw pixels: no rescale, no normalisation.
    const raw = input.dtype === 'uint8' && !input.quantization;
    const { mean, std, rescale } = raw ? { mean: [0, 0, 0] as [number, number, number], std: [1, 1, 1] as [number, number, number], rescale: 1 } : this.model.preprocess;
    const size = input.width * input.height * 3;
    if (this.tensorBuffer?.length !== size) this.tensorBuffer = new Float32Array(size);
    const values = kernels.nv12ToTensor(image, {
      out: this.tensorBuffer,
      width: input.width,
      height: input.height,
      mean,
      std,
      rescale,
      layout: input.layout,
      channelOrder,
      color,
    });
    const shape = input.layout === 'NCHW' ? [1, 3, input.height, input.width] : [1, input.height, input.width, 3];
    return { kind: 'tensor', tensor: this.inModelType(values, shape) };
  }

  /** The float32 tensor in the element type the model takes. */
  private inModelType(values: Float32Array, shape: number[]): Tensor {
    const { dtype, quantization } = this.model.input;
    if (dtype === 'float32') return { dtype, shape, data: values };
    if (dtype === 'float16') {
      if (!(this.typedBuffer instanceof Uint16Array) || this.typedBuffer.length !== values.length) this.typedBuffer = new Uint16Array(values.length);
      return { dtype, shape, data: kernels.float32ToFloat16(values, { out: this.typedBuffer }) };
    }
    const ctor = dtype === 'uint8' ? Uint8Array : Int8Array;
    if (!(this.typedBuffer instanceof ctor) || this.typedBuffer.length !== values.length) this.typedBuffer = new ctor(values.length);
    const q = quantization ? perTensorQuantization(quantization, 'preprocess: model input quantization') : { scale: 1, zeroPoint: 0 };
    const data = kernels.quantizeTensor(values, { dtype: dtype as 'uint8' | 'int8', ...q, out: this.typedBuffer as Uint8Array | Int8Array });
    return { dtype, shape, data };
  }
}

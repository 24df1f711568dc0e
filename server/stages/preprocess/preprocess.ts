/**
 * The preprocess stage: a camera frame (NV12, any size) -> the input its model takes, as the model was trained
 * (server/model reads this from the model's files): a normalised float tensor at the model's size, or, for models
 * compiled for NV12 input (BPU), the frame resized to the model's size. Runs in the inference worker.
 */
import * as kernels from '../../kernels/index.ts';
import type { ModelInfo } from '../../model/model-info.ts';
import type { ColorModel, Nv12Image } from '../frame-context.ts';
import type { ModelInput } from '../infer/backend.ts';

export class Preprocessor {
  /** The model input tensor, reused frame after frame (a fresh multi-megabyte buffer costs page faults each time). */
  private tensorBuffer: Float32Array | null = null;

  constructor(private readonly model: ModelInfo) {}

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
    const { mean, std, rescale, channelOrder } = this.model.preprocess;
    const size = input.width * input.height * 3;
    if (this.tensorBuffer?.length !== size) this.tensorBuffer = new Float32Array(size);
    const data = kernels.nv12ToTensor(image, {
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
    return { kind: 'tensor', tensor: { dtype: 'float32', shape, data } };
  }
}

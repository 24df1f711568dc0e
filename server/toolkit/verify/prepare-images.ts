/**
 * Step 2 of `segstream verify`: the frames. Opens the image set (a folder, one image, or a video), lists the
 * user's own deployed input files when given, and for each image decodes it and computes the reference
 * input tensor: the model's training preprocessing through segstream's exact kernels.
 */
import path from 'node:path';
import type { ModelInfo } from '../../model/model-info.ts';
import { rgbToTensor } from '../../kernels/index.ts';
import { UsageError } from '../../cli/args.ts';
import { decodeImage, openImageSet, type DecodedImage, type ImageSet } from '../images.ts';
import { listTensorFiles } from '../tensors/calib-manifest.ts';
import type { PreprocessParams } from '../diagnosis/preprocess-diagnosis.ts';
import type { ResolvedVerifyOptions } from './request.ts';

export function preprocessParams(info: ModelInfo): PreprocessParams {
  return { width: info.input.width, height: info.input.height, mean: info.preprocess.mean, std: info.preprocess.std, rescale: info.preprocess.rescale, channelOrder: info.preprocess.channelOrder };
}

export interface VerifyImages {
  set: ImageSet;
  /** The user's deployed input files (--deployed-tensors), or [] */
  tensorFiles: string[];
  /** The file made from `imageName` (coffee.png <-> coffee.bin / coffee_0.npy); a usage error when there is none. */
  tensorFileFor(imageName: string): string;
}

export async function openVerifyImages(o: ResolvedVerifyOptions): Promise<VerifyImages> {
  const set = await openImageSet(o.images, o.maxImages ? { maxImages: o.maxImages } : {});
  let tensorFiles: string[] = [];
  try {
    if (o.deployedTensors) tensorFiles = await listTensorFiles(o.deployedTensors);
  } catch (err) {
    await set.cleanup();
    throw err;
  }
  return {
    set,
    tensorFiles,
    tensorFileFor(imageName: string): string {
      const stem = path.parse(imageName).name;
      const match = tensorFiles.find((f) => {
        const b = path.basename(f);
        return b === stem || (b.startsWith(stem) && /[._-]/.test(b.charAt(stem.length)));
      });
      if (!match) throw new UsageError(`--deployed-tensors ${o.deployedTensors}: no file for image ${imageName} (expected ${stem}.bin or ${stem}.npy)`);
      return match;
    },
  };
}

export interface PreparedImage {
  name: string;
  image: DecodedImage;
  /** The reference input: training preprocessing, float32 NCHW in the reference's units. */
  referenceTensor: Float32Array;
}

export async function prepareImage(src: { path: string; name: string }, params: PreprocessParams): Promise<PreparedImage> {
  const image = await decodeImage(src.path, src.name);
  return { name: src.name, image, referenceTensor: rgbToTensor(image.rgb, image.width, image.height, params) };
}

/**
 * NV12 subsamples chroma 2x2, so an RGB picture is cropped to even width and height (the last odd column / row
 * dropped) before it is encoded as a camera frame.
 */
export interface RgbPicture {
  rgb: Uint8Array;
  w: number;
  h: number;
}

/** Interleaved RGB of `w` x `h`, cropped to even sides; the same array when both already are. */
export function cropToEvenSize(rgb: Uint8Array, w: number, h: number): RgbPicture {
  const ew = w - (w % 2);
  const eh = h - (h % 2);
  if (ew === w && eh === h) return { rgb, w, h };
  const out = new Uint8Array(ew * eh * 3);
  for (let y = 0; y < eh; y++) out.set(rgb.subarray(y * w * 3, y * w * 3 + ew * 3), y * ew * 3);
  return { rgb: out, w: ew, h: eh };
}

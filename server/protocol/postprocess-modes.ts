/**
 * How logits become a class map. The order is the order offered to users (default first); the native kernels
 * addon reports the same names (`argmaxModes()`), checked when it is loaded.
 *   boundary: boundary-exact argmax of the bilinearly upsampled logits (exact, cheap where neighbours agree)
 *   exact:    bilinear upsample of every logit plane, then argmax (the reference)
 *   lowres:   argmax at the logits' resolution, then nearest upscale (fast, blocky edges)
 */
export const POSTPROCESS_MODES = ['boundary', 'exact', 'lowres'] as const;
export type PostprocessMode = (typeof POSTPROCESS_MODES)[number];

export function isPostprocessMode(value: unknown): value is PostprocessMode {
  return typeof value === 'string' && (POSTPROCESS_MODES as readonly string[]).includes(value);
}

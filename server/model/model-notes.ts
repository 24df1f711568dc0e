/**
 * What a user should know about how segstream will run a model, in plain lines for the server log and
 * `segstream model info`: how the output is turned into a class map, where sizes and the class count came from,
 * and what the input is converted to.
 */
import type { ModelInfo } from './model-info.ts';

/** A one-line summary: input, output kind and size, classes. */
export function modelSummary(m: ModelInfo): string {
  const i = m.input;
  const o = m.output;
  const scale = o.height === i.height && o.width === i.width ? 'the input size' : o.height * 4 === i.height && o.width * 4 === i.width ? '1/4 of the input' : `${o.height}x${o.width}`;
  const what = o.kind === 'logits' ? `${o.dtype} logits at ${scale}` : `${o.dtype} class map at ${scale}`;
  return `${i.name} ${i.dtype} ${i.layout} ${i.height}x${i.width}${i.dynamic ? ' (dynamic)' : ''} -> ${o.name}: ${what} (${o.height}x${o.width}), ${o.classes > 0 ? `${o.classes} classes` : 'class count from the ids seen'}`;
}

/** Lines worth logging when the model loads; empty for a plain float32 logits model. */
export function modelNotes(m: ModelInfo): string[] {
  const notes: string[] = [];
  const i = m.input;
  const o = m.output;
  if (o.kind === 'classmap') {
    notes.push(
      `model ${m.name}: output "${o.name}" is a ${o.dtype} class map computed in the model (argmax skipped); ` +
        `${o.height}x${o.width} is resized nearest-neighbour to the frame size (upscaled when the frame is larger)`,
    );
    if (o.classes <= 0) {
      notes.push(`model ${m.name}: neither the graph nor config.json gives the class count: classes are counted from the ids seen, with generic names (class 0, class 1, ...)`);
    } else if (m.details.classCountOrigin === 'config.json') {
      notes.push(`model ${m.name}: class count ${o.classes} from config.json (the graph does not show it)`);
    }
  }
  if (o.dtype === 'float16') notes.push(`model ${m.name}: float16 logits are widened to float32 (exact) by the argmax kernel`);
  if (i.dtype === 'float16') notes.push(`model ${m.name}: input "${i.name}" is float16: the normalised tensor is converted by the kernels (round to nearest even)`);
  if (i.quantization) notes.push(`model ${m.name}: input "${i.name}" is ${i.dtype}: ${m.details.inputValues}`);
  else if (i.dtype === 'uint8') notes.push(`model ${m.name}: input "${i.name}" takes raw uint8 pixels (the model normalises them itself)`);
  const shape = String(m.details.outputShape ?? '');
  if (shape.startsWith('from a warm-up')) notes.push(`model ${m.name}: output size ${shape}`);
  else if (shape.startsWith('propagated')) notes.push(`model ${m.name}: output size ${shape}`);
  return notes;
}

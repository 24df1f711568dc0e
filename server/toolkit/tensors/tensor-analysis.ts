/**
 * Checks one calibration / runtime input file against what the model expects: byte size vs shape x dtype
 * (naming the dtype the size actually fits), truncation, layout (from the .npy header or from spatial
 * smoothness), NaN/Inf, and the value domain (raw 0-255 vs 0-1 vs normalised).
 */
import type { TensorLayout } from '../../model/model-info.ts';
import { describeExpectation, expectedBytes, expectedElements, expectedShape, type InputExpectation } from '../diagnosis/input-expectation.ts';
import { finding, formatShape, groupDigits, type Finding } from '../report/findings.ts';
import { decodeToFloat32, DTYPE_BYTES, type FileDType, type TensorFile } from './tensor-file.ts';
import { classifyDomain, DOMAIN_TEXT, guessLayout, tensorStats, transposeLayout, type LayoutGuess, type TensorStats, type ValueDomain } from './tensor-stats.ts';
import { normalisationSignature, type NormalisationSignature } from './normalisation-signature.ts';
import { NORMALISED_TWICE_FIX } from '../diagnosis/preprocess-diagnosis.ts';
import { at } from '../../util/checked-access.ts';

export interface FileInterpretation {
  dtype: FileDType;
  layout: TensorLayout;
  shape: number[];
  /** False when the file holds fewer bytes than this interpretation needs. */
  complete: boolean;
  basis: 'npy-header' | 'file-size';
}

export interface FileAnalysis {
  path: string;
  bytes: number;
  format: 'npy' | 'raw';
  expected: string;
  interpretation?: FileInterpretation;
  stats?: TensorStats;
  domain?: ValueDomain;
  layoutGuess?: LayoutGuess;
  /** The normalisation the numbers show (float image data only), see normalisation-signature.ts. */
  signature?: NormalisationSignature;
  findings: Finding[];
  /** Decoded values under `interpretation` (not serialised to JSON). */
  values?: Float32Array;
}

function shapeFor(e: InputExpectation, layout: TensorLayout): number[] {
  return expectedShape({ ...e, layout });
}

function otherLayout(l: TensorLayout): TensorLayout {
  return l === 'NCHW' ? 'NHWC' : 'NCHW';
}

const FIX_FLOAT_AS_INT8 =
  'write the file in the dtype the model reads: for an image rt input (rgb/bgr/nv12) that is uint8 pixels 0-255 in the rt layout ' +
  '(the resized image before any /255 or mean/std), e.g. `segstream calib --format rgb --dtype uint8`; if you really want to feed ' +
  'the normalised float tensor, compile with input_type_rt: featuremap instead';

export interface BytesReading {
  /** Finite, image-sized values whose neighbours resemble each other: bytes that really are this dtype. */
  plausible: boolean;
  /** The numbers behind the verdict, for messages. */
  summary: string;
}

/**
 * Whether `count` values of `dtype` at the start of the bytes look like image data: (almost) all finite,
 * (almost) all within +-1000, not constant, and smooth - the mean step between neighbouring values (1 or 3
 * apart, for planar or interleaved channels) well below their spread. Bytes of another dtype read this way
 * come out as noise (a mean step of about 1.13 x the spread) with NaN, Inf or huge values.
 */
export function readBytesAs(payload: Uint8Array, dtype: FileDType, count: number): BytesReading {
  const v = decodeToFloat32(payload, dtype, true, count);
  const n = v.length;
  let nonFinite = 0;
  let huge = 0;
  let maxAbs = 0;
  let sum = 0;
  let sq = 0;
  let m = 0;
  for (let i = 0; i < n; i++) {
    const x = at(v, i, 'v');
    if (!Number.isFinite(x)) {
      nonFinite++;
      continue;
    }
    const a = Math.abs(x);
    if (a > 1000) huge++;
    if (a > maxAbs) maxAbs = a;
    sum += x;
    sq += x * x;
    m++;
  }
  if (n === 0 || m === 0) return { plausible: false, summary: 'no whole values' };
  const mean = sum / m;
  const std = Math.sqrt(Math.max(0, sq / m - mean * mean));
  const step = (stride: number) => {
    let s = 0;
    let k = 0;
    for (let i = 0; i + stride < n; i++) {
      const d = Math.abs(at(v, i + stride, 'v') - at(v, i, 'v'));
      if (Number.isFinite(d)) {
        s += d;
        k++;
      }
    }
    return k > 0 ? s / k : Number.POSITIVE_INFINITY;
  };
  const roughness = std > 0 ? Math.min(step(1), step(3)) / std : Number.POSITIVE_INFINITY;
  const parts = [`${groupDigits(nonFinite)} NaN/Inf`, `largest |value| ${maxAbs.toPrecision(3)}`, `mean step between neighbours ${Number.isFinite(roughness) ? roughness.toFixed(2) : 'n/a'} x the spread`];
  const plausible = nonFinite <= 0.001 * n && huge <= 0.01 * n && std > 0 && roughness < 0.6;
  return { plausible, summary: parts.join(', ') };
}

export function analyseTensorFile(file: TensorFile, exp: InputExpectation): FileAnalysis {
  const findings: Finding[] = [];
  const out: FileAnalysis = { path: file.path, bytes: file.bytes, format: file.format, expected: `${exp.source}: ${describeExpectation(exp)}`, findings };
  const subject = file.path;
  const E = expectedElements(exp);
  const expBytes = expectedBytes(exp);
  const expDesc = describeExpectation(exp);
  const tensorKind = exp.kind === 'tensor';

  if (file.payload.length === 0) {
    findings.push(finding('empty-file', 'error', `the file holds no data (0 bytes${file.format === 'npy' ? ' after the .npy header' : ''}); ${exp.source} is ${expDesc}`, { subject, fix: 'regenerate it; check that the writer finished (disk full, killed process)' }));
    return out;
  }

  let interp: FileInterpretation | undefined;
  const B = file.payload.length;

  if (file.format === 'npy' && file.npy) {
    const h = file.npy;
    const n = h.shape.reduce((a, b) => a * b, 1);
    const need = n * DTYPE_BYTES[h.dtype];
    let layout = exp.layout;
    const sameAsExpected = formatShape(h.shape) === formatShape(shapeFor(exp, exp.layout));
    const swapped = tensorKind && formatShape(h.shape) === formatShape(shapeFor(exp, otherLayout(exp.layout)));
    if (swapped) layout = otherLayout(exp.layout);
    interp = { dtype: h.dtype, layout, shape: h.shape, complete: B >= need, basis: 'npy-header' };
    if (B < need) {
      findings.push(
        finding('truncated-file', 'error', `${groupDigits(B)} of ${groupDigits(need)} bytes: truncated - the .npy header declares ${h.dtype} ${formatShape(h.shape)} = ${groupDigits(need)} bytes of data but only ${groupDigits(B)} follow the header: ${groupDigits(need - B)} bytes (${((100 * (need - B)) / need).toFixed(1)}%) are missing`, {
          subject,
          fix: 'the copy or the writer stopped early: regenerate or re-copy the file and compare its sha256 with the manifest',
          data: { declaredBytes: need, payloadBytes: B },
        }),
      );
    } else if (B > need) {
      findings.push(finding('trailing-bytes', 'warning', `${groupDigits(B - need)} bytes follow the data the .npy header declares`, { subject }));
    }
    if (h.fortranOrder) {
      findings.push(finding('fortran-order', 'warning', 'the array is stored in Fortran (column-major) order: tools that read raw bytes will see it transposed', { subject, fix: 'save np.ascontiguousarray(x) instead' }));
    }
    if (!h.littleEndian) findings.push(finding('big-endian', 'warning', 'the array is big-endian; the board reads little-endian', { subject, fix: "save x.astype('<f4') (or '<u1')" }));
    dtypeFindings(h.dtype, `this .npy holds ${h.dtype} ${formatShape(h.shape)}`);
    if (swapped) {
      findings.push(
        finding('layout-swap', 'error', `the array is ${otherLayout(exp.layout)} ${formatShape(h.shape)} but ${exp.source} is ${exp.layout} ${formatShape(shapeFor(exp, exp.layout))}: channels and pixels are swapped`, {
          subject,
          fix: exp.layout === 'NCHW' ? 'transpose before saving: x.transpose(0, 3, 1, 2)' : 'transpose before saving: x.transpose(0, 2, 3, 1)',
          data: { actual: otherLayout(exp.layout), expected: exp.layout },
        }),
      );
    } else if (!sameAsExpected) {
      const sev = n === E ? 'warning' : 'error';
      findings.push(finding('shape-mismatch', sev, `the array's shape is ${formatShape(h.shape)} but ${exp.source} is ${expDesc}`, { subject }));
    }
  } else {
    // Raw bytes: the size is all there is. Name the dtype the size fits.
    const fits = (d: FileDType) => E * DTYPE_BYTES[d] === B;
    if (B === expBytes) {
      interp = { dtype: exp.dtype, layout: exp.layout, shape: shapeFor(exp, exp.layout), complete: true, basis: 'file-size' };
    } else if (tensorKind && B === exp.height * exp.width * 1.5) {
      findings.push(finding('nv12-where-tensor-expected', 'error', `this file is ${groupDigits(B)} bytes = NV12 ${exp.width}x${exp.height} (${exp.width}*${exp.height}*3/2); ${exp.source} is ${expDesc}`, { subject, fix: 'convert the NV12 frame to the tensor the model takes, or compile with input_type_rt: nv12' }));
    } else if (!tensorKind && (B === 3 * exp.height * exp.width || B === 12 * exp.height * exp.width)) {
      const d = B === 3 * exp.height * exp.width ? 'uint8' : 'float32';
      findings.push(finding('tensor-where-nv12-expected', 'error', `this file is ${groupDigits(B)} bytes = ${d} [1,3,${exp.height},${exp.width}] (a 3-channel image), but ${exp.source} is ${expDesc}`, { subject, fix: 'feed an NV12 frame at the model size (Y plane then interleaved UV), e.g. the .nv12 files `segstream calib --format nv12` writes' }));
    } else {
      // Another dtype that makes exactly one tensor of these bytes is named only when the bytes read like one:
      // half a float32 file is the size of a float16 tensor, but read as float16 its bytes are noise and NaN.
      const sizeFits = tensorKind ? (['float32', 'uint8', 'float16', 'float64'] as FileDType[]).filter((d) => d !== exp.dtype && fits(d)) : [];
      const readings = sizeFits.map((d) => ({ d, reading: readBytesAs(file.payload, d, E) }));
      const exact = readings.find((r) => r.reading.plausible)?.d;
      if (exact) {
        // Describe the file in the layout its numbers suggest (a float featuremap is usually NCHW).
        // A float file in a pixel slot is usually a PyTorch-style NCHW featuremap when the numbers do not say.
        let shape = shapeFor(exp, exact.startsWith('float') && DTYPE_BYTES[exp.dtype] === 1 ? 'NCHW' : exp.layout);
        if (exp.channels === 3) {
          const g = guessLayout(decodeToFloat32(file.payload, exact, true, E), exp.channels, exp.height, exp.width);
          if (g.layout !== 'unknown') shape = shapeFor(exp, g.layout);
        }
        interp = { dtype: exact, layout: exp.layout, shape, complete: true, basis: 'file-size' };
      } else if (B > expBytes && B % expBytes === 0) {
        findings.push(finding('several-tensors', 'warning', `this file is ${groupDigits(B)} bytes = ${B / expBytes} x ${expDesc}: the model takes one tensor per file`, { subject, fix: 'write one file per image (batch 1)' }));
        interp = { dtype: exp.dtype, layout: exp.layout, shape: shapeFor(exp, exp.layout), complete: true, basis: 'file-size' };
      } else {
        // Not a whole tensor of any dtype: compare with the nearest complete size above it.
        const candidates = [...new Set([exp.dtype, 'float32', 'uint8', 'float16', 'float64'] as FileDType[])]
          .map((d) => ({ d, bytes: E * DTYPE_BYTES[d] }))
          .filter((c) => c.bytes > B)
          .sort((a, b) => (a.d === exp.dtype ? -1 : b.d === exp.dtype ? 1 : a.bytes - b.bytes));
        const c = candidates.find((x) => x.d === exp.dtype) ?? candidates[0];
        if (c) {
          const missing = c.bytes - B;
          // What the bytes that are there say: the start of a c.d tensor, and not another dtype's whole tensor.
          const present = readBytesAs(file.payload, c.d, Math.floor(B / DTYPE_BYTES[c.d]));
          const evidence = [
            present.plausible ? ` The ${groupDigits(B)} bytes present read as ${c.d} like the first ${((100 * B) / c.bytes).toFixed(1)}% of an image tensor (${present.summary}).` : '',
            ...readings.map((r) => ` The size would also fit ${r.d} ${formatShape(shapeFor(exp, exp.layout))}, but read as ${r.d} these bytes are not image data (${r.reading.summary}).`),
          ].join('');
          findings.push(
            finding('truncated-file', 'error', `${groupDigits(B)} of ${groupDigits(c.bytes)} bytes: truncated - this file is ${groupDigits(B)} bytes, but a complete ${c.d} ${formatShape(shapeFor(exp, exp.layout))} is ${groupDigits(c.bytes)} bytes: ${groupDigits(missing)} bytes (${((100 * missing) / c.bytes).toFixed(1)}%) are missing - the file is truncated${B % DTYPE_BYTES[c.d] !== 0 ? ` (it even ends inside a ${c.d} value)` : ''}.${evidence}`, {
              subject,
              fix: 'the copy or the writer stopped early: regenerate or re-copy it and compare its sha256 with the manifest',
              data: { bytes: B, expectedBytes: c.bytes, missingBytes: missing, rejectedDTypes: readings.map((r) => r.d) },
            }),
          );
          if (tensorKind) interp = { dtype: c.d, layout: exp.layout, shape: shapeFor(exp, exp.layout), complete: false, basis: 'file-size' };
        } else {
          findings.push(finding('size-mismatch', 'error', `this file is ${groupDigits(B)} bytes; ${exp.source} is ${expDesc}, and no dtype makes ${groupDigits(B)} bytes a [${formatShape(shapeFor(exp, exp.layout))}] tensor`, { subject, fix: 'check the input size and dtype the file was written for' }));
        }
      }
      if (interp && interp.complete && interp.dtype !== exp.dtype) dtypeFindings(interp.dtype, `this file is ${groupDigits(B)} bytes = ${interp.dtype} ${formatShape(interp.shape)}`);
    }
  }

  if (!interp || !interp.complete || !tensorKind) {
    if (!tensorKind && B === expBytes) analyseNv12(file.payload, exp, findings, subject);
    out.interpretation = interp;
    return out;
  }

  out.interpretation = interp;
  // Decode and look at the numbers.
  const values = decodeToFloat32(file.payload, interp.dtype, file.npy?.littleEndian ?? true, E);
  out.values = values;
  let layout = interp.layout;
  if (interp.basis === 'file-size' && exp.channels === 3) {
    const g = guessLayout(values, exp.channels, exp.height, exp.width);
    out.layoutGuess = g;
    if (g.layout !== 'unknown' && g.layout !== exp.layout) {
      layout = g.layout;
      interp.shape = shapeFor(exp, layout);
      findings.push(
        finding('layout-swap', 'error', `read as ${exp.layout} the neighbouring values of this file do not look like neighbouring pixels (mean step ${(exp.layout === 'NCHW' ? g.roughnessNchw : g.roughnessNhwc).toPrecision(3)}), read as ${g.layout} they do (mean step ${(g.layout === 'NCHW' ? g.roughnessNchw : g.roughnessNhwc).toPrecision(3)}): the file is ${g.layout} but ${exp.source} is ${exp.layout}`, {
          subject,
          fix: exp.layout === 'NCHW' ? 'transpose HWC -> CHW before writing: x.transpose(0, 3, 1, 2) (or img.transpose(2, 0, 1))' : 'transpose CHW -> HWC before writing: x.transpose(0, 2, 3, 1)',
          data: { ...g },
        }),
      );
    }
    interp.layout = layout;
  } else if (exp.channels === 3) {
    out.layoutGuess = guessLayout(values, exp.channels, exp.height, exp.width);
  }
  const stats = tensorStats(values, { channels: exp.channels, height: exp.height, width: exp.width, layout });
  out.stats = stats;
  if (stats.nan > 0 || stats.inf > 0) {
    findings.push(finding('nan-or-inf', 'error', `${groupDigits(stats.nan)} NaN and ${groupDigits(stats.inf)} infinite values out of ${groupDigits(stats.count)}`, { subject, fix: 'find where the preprocessing divides by zero or reads uninitialised memory; calibration statistics are meaningless with NaN/Inf' }));
  }
  let domain = classifyDomain(stats);
  // Float image data: which normalisation its numbers show (channel swap after normalising, mean/std twice).
  const floatFile = interp.dtype === 'float32' || interp.dtype === 'float64' || interp.dtype === 'float16';
  if (floatFile && exp.channels === 3 && (domain === 'normalised' || domain === 'unknown')) {
    const nchw = layout === 'NCHW' ? values : transposeLayout(values, 3, exp.height, exp.width, 'NHWC');
    const signature = normalisationSignature(nchw, exp);
    if (signature) {
      out.signature = signature;
      if (signature.kind === 'normalised-twice') domain = 'normalised-twice';
    }
  }
  out.domain = domain;
  domainFindings(domain, stats);
  if (out.signature?.kind === 'channels-reversed' || out.signature?.reversed) {
    findings.push(
      finding('channel-order-bgr', 'error', `the channel planes are in reverse order (BGR): ${out.signature.detail} - the tensor was normalised per channel and then its channels were swapped, so the model's ${exp.channelOrder === 'rgb' ? 'red' : 'blue'} input sees ${exp.channelOrder === 'rgb' ? 'blue' : 'red'}`, {
        subject,
        fix: 'keep the channel order of the normalised tensor: drop the RGB<->BGR swap after normalising (x[:, ::-1] or a cvtColor on the float tensor); cv2.imread returns BGR, so convert the image, not the tensor',
        data: { evidence: out.signature.evidence, planes: out.signature.planes },
      }),
    );
  }
  return out;

  function dtypeFindings(actual: FileDType, what: string) {
    const expOneByte = DTYPE_BYTES[exp.dtype] === 1;
    if (actual === exp.dtype) return;
    if (expOneByte && (actual === 'float32' || actual === 'float64' || actual === 'float16')) {
      findings.push(
        finding('float-read-as-int8', 'error', `${what}; ${exp.source} is ${expDesc}: you are reading a float file as int8 - every ${actual} value becomes ${DTYPE_BYTES[actual]} meaningless bytes (the classic symptom: every logit comes out negative)`, {
          subject,
          fix: FIX_FLOAT_AS_INT8,
          data: { fileDType: actual, expectedDType: exp.dtype, bytes: B },
        }),
      );
    } else if (exp.dtype === 'float32' && (actual === 'uint8' || actual === 'int8')) {
      findings.push(
        finding('uint8-where-float-expected', 'error', `${what}; ${exp.source} is ${expDesc}: a uint8 file is being read as float32 - four pixels at a time become one garbage float`, {
          subject,
          fix: exp.role === 'calibration'
            ? 'either write float32 files (x.astype(np.float32).tofile(...), `segstream calib --dtype float32`) or set cal_data_type: uint8 in the hb_mapper YAML'
            : 'write float32 (x.astype(np.float32)); for uint8 pixels compile the model with an image input (input_type_rt: rgb / nv12)',
          data: { fileDType: actual, expectedDType: exp.dtype, bytes: B },
        }),
      );
    } else if (exp.dtype === 'float32' && actual === 'float64') {
      findings.push(finding('float64-where-float32-expected', 'error', `${what}; ${exp.source} is ${expDesc}: NumPy's default float64 was saved instead of float32`, { subject, fix: 'save x.astype(np.float32)' }));
    } else {
      findings.push(finding('dtype-mismatch', 'error', `${what}; ${exp.source} is ${expDesc}`, { subject, fix: `write ${exp.dtype}` }));
    }
  }

  function domainFindings(domain: ValueDomain, s: TensorStats) {
    const range = `${s.min.toPrecision(4)}..${s.max.toPrecision(4)}`;
    const means = s.channels ? ` (channel means ${s.channels.map((c) => c.mean.toPrecision(3)).join(', ')})` : '';
    const seen = `${DOMAIN_TEXT[domain]}, range ${range}${means}`;
    if (domain === 'normalised-twice') {
      const sig = out.signature!;
      const proof = sig.evidence === 'pixel-lattice' ? `the pixel lattice proves it: ${sig.detail}` : `its statistical signature: ${sig.detail}`;
      const wanted = exp.domain === 'raw-0-255' ? ` (${exp.source} takes raw 0-255 pixels)` : '';
      findings.push(
        finding('normalised-twice', 'error', `the file holds ${seen}: mean/std was applied twice${wanted} - ${proof}`, {
          subject,
          fix: `${NORMALISED_TWICE_FIX}${sig.evidence === 'value-range' ? '. Confirm with --reference-image <the source image>, which reproduces the double normalisation exactly' : ''}`,
          data: { evidence: sig.evidence },
        }),
      );
      return;
    }
    if (domain === 'constant') {
      findings.push(finding('constant-tensor', 'warning', `every value is ${s.min}: not an image`, { subject, fix: 'check the image decoding step' }));
      return;
    }
    if (domain === exp.domain) return;
    if (exp.domain === 'normalised') {
      if (domain === 'raw-0-255') {
        findings.push(finding('raw-pixels-where-normalised-expected', 'error', `the file holds ${seen} but ${exp.source} takes normalised values ((x/255 - mean)/std, about -2.1..2.6)`, { subject, fix: `apply x/255, then (x - [${exp.mean.join(', ')}]) / [${exp.std.join(', ')}] per channel (or use segstream calib --format featuremap)` }));
      } else if (domain === 'unit-0-1') {
        findings.push(finding('rescaled-not-normalised', 'error', `the file holds ${seen}: rescaled to 0-1 but the mean/std normalisation is missing`, { subject, fix: `subtract [${exp.mean.join(', ')}] and divide by [${exp.std.join(', ')}] per channel` }));
      } else {
        findings.push(finding('unexpected-value-range', 'warning', `the file holds ${seen}; ${exp.source} takes normalised values (about -2.1..2.6)`, { subject }));
      }
      return;
    }
    if (exp.domain === 'raw-0-255') {
      if (domain === 'normalised') {
        const noPre = exp.role === 'calibration' && exp.normType === 'no_preprocess';
        if (noPre) {
          findings.push(
            finding('no-preprocess-with-normalised-calibration', 'error', `the calibration file holds ${seen}, and the config compiles input_type_rt: ${exp.rtType} with norm_type: no_preprocess: on the board raw 0-255 pixels reach the first layer unnormalised, while hb_mapper calibrated it for -2.1..2.6 - activations saturate (the reported case: every logit negative)`, {
              subject,
              fix: `set norm_type: data_mean_and_scale with mean_value ${exp.mean.map((m) => +(m / exp.rescale).toFixed(3)).join(' ')} and scale_value ${exp.std.map((v) => +(exp.rescale / v).toPrecision(6)).join(' ')}, and regenerate calibration as raw 0-255 RGB: segstream calib --format rgb (segstream mapper-config writes the whole input section)`,
            }),
          );
        } else if (exp.normType === 'no_preprocess') {
          // no_preprocess: the compiled model does NOT normalise. Raw pixels are what it reads, unnormalised.
          findings.push(
            finding('normalised-where-raw-expected', 'error', `the file holds ${seen} but ${exp.source} takes raw 0-255 pixels, and with norm_type: no_preprocess the compiled model does not normalise them: whatever the board feeds reaches the first layer as it is, while the model was trained on normalised values - the config is wrong, not only this file`, {
              subject,
              fix: `compile with norm_type: data_mean_and_scale, mean_value ${exp.mean.map((m) => +(m / exp.rescale).toFixed(3)).join(' ')}, scale_value ${exp.std.map((v) => +(exp.rescale / v).toPrecision(6)).join(' ')} and feed the resized RGB pixels before /255 and mean/std (segstream calib --format rgb); or compile with input_type_rt: featuremap to feed this normalised tensor`,
            }),
          );
        } else {
          findings.push(finding('normalised-where-raw-expected', 'error', `the file holds ${seen} but ${exp.source} takes raw 0-255 pixels: the model normalises them itself (norm_type ${exp.normType ?? 'data_mean_and_scale'}), so these values get normalised twice`, { subject, fix: 'write the resized RGB pixels before /255 and mean/std (segstream calib --format rgb)' }));
        }
      } else if (domain === 'unit-0-1') {
        findings.push(finding('rescaled-where-raw-expected', 'error', `the file holds ${seen} but ${exp.source} takes raw 0-255 pixels`, { subject, fix: 'do not divide by 255: write the resized pixels as they are' }));
      } else if (domain === 'int8-centred') {
        findings.push(finding('int8-centred-values', 'warning', `the file holds ${seen}; ${exp.source} takes 0-255 pixels (the BPU subtracts 128 itself)`, { subject, fix: 'add 128 back (write uint8 0-255)' }));
      } else {
        findings.push(finding('unexpected-value-range', 'warning', `the file holds ${seen}; ${exp.source} takes raw 0-255 pixels`, { subject }));
      }
    }
  }
}

/** NV12 payload: range of Y and UV, as a colour-range hint against the config's input_space_and_range. */
function analyseNv12(payload: Uint8Array, exp: InputExpectation, findings: Finding[], subject: string) {
  const ySize = exp.width * exp.height;
  let yMin = 255;
  let yMax = 0;
  for (let i = 0; i < ySize; i++) {
    const v = at(payload, i, 'payload');
    if (v < yMin) yMin = v;
    if (v > yMax) yMax = v;
  }
  let cMin = 255;
  let cMax = 0;
  for (let i = ySize; i < payload.length; i++) {
    const v = at(payload, i, 'payload');
    if (v < cMin) cMin = v;
    if (v > cMax) cMax = v;
  }
  const limitedLooking = yMin >= 16 && yMax <= 235 && cMin >= 16 && cMax <= 240;
  const data = { yMin, yMax, uvMin: cMin, uvMax: cMax };
  if (exp.colourRange === 'limited' && (yMin < 16 || yMax > 235)) {
    findings.push(finding('colour-range-mismatch', 'error', `Y spans ${yMin}..${yMax}, outside limited range 16-235, but the model is compiled for limited range (input_space_and_range: bt601_video): this frame is full range`, { subject, data, fix: 'compile with input_space_and_range: regular, or make the source emit limited range' }));
  } else if (exp.colourRange === 'full' && limitedLooking && yMax - yMin > 120) {
    findings.push(finding('colour-range-mismatch', 'warning', `Y spans ${yMin}..${yMax} and UV ${cMin}..${cMax}, inside the limited range 16-235/16-240, but the model is compiled for full range (input_space_and_range: regular): this looks like a limited-range (video) frame; colours will be washed out`, { subject, data, fix: 'compile with input_space_and_range: bt601_video, or convert the source to full range (the camera\'s colorimetry says which)' }));
  } else {
    findings.push(finding('nv12-range', 'info', `Y spans ${yMin}..${yMax}, UV ${cMin}..${cMax}${limitedLooking ? ' (inside limited range 16-235)' : ''}`, { subject, data }));
  }
}

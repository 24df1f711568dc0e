/**
 * `segstream mapper-config`: writes an hb_mapper YAML (march bayes-e) whose input section matches the
 * model's training preprocessing and the camera's colour range, whose calibration section points at
 * `segstream calib` output, and whose node_info keeps the transformer-sensitive nodes int16 on the BPU;
 * or (`--check`) reads an existing YAML and lists what disagrees with the model, preprocessing and data.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ModelInfo } from '../../model/model-info.ts';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import { readCalibManifest, listTensorFiles } from '../tensors/calib-manifest.ts';
import {
  EXIT_FAILED_CHECKS,
  EXIT_OK,
  optionalString,
  parseChoice,
  printJson,
  requiredString,
  runCli,
  UsageError,
  type Options,
} from '../../cli/args.ts';
import { MODEL_FILE_OPTIONS, modelFileFlags } from './model-file-flags.ts';
import { deriveExpectation } from '../diagnosis/input-expectation.ts';
import { finding, formatFindings, hasErrors, type Finding } from '../report/findings.ts';
import { checkMapperConfig, type CalibrationEvidence } from '../hb-mapper/mapper-check.ts';
import { buildMapperYaml, parseMapperYaml, type MapperConfigView } from '../hb-mapper/mapper-yaml.ts';
import { loadModelContext, type ModelContext } from '../model-context.ts';
import { findTransformerSensitiveNodes, type SensitiveNode } from '../hb-mapper/sensitive-nodes.ts';
import { explainNodePrecisions, heuristicInt16Choices, type NodePrecisionChoice } from '../hb-mapper/node-info.ts';
import { checkNodeInfoAgainstMeasured, checkSameModel, measuredFindings, nodeInfoOf, readMeasuredPrecision } from '../quantize/node-info.ts';
import { analyseTensorFile } from '../tensors/tensor-analysis.ts';
import { readTensorFile } from '../tensors/tensor-file.ts';
import { at } from '../../util/checked-access.ts';

export const HELP = `usage: segstream mapper-config --model <onnx> --input nv12|featuremap|rgb [options]
       segstream mapper-config --check <hb_mapper.yaml> --model <onnx> [options]

Writes an hb_mapper YAML (march bayes-e, RDK X5) whose input section matches the model's training
preprocessing: for nv12/rgb input, norm_type data_mean_and_scale with mean_value = 255*mean and
scale_value = 1/(255*std), input_space_and_range from the camera's colour range; the calibration section
points at \`segstream calib\` output; node_info puts Softmax, LayerNorm (or its decomposed form), GELU and
the attention MatMuls on the BPU as int16 (--int16 auto: an op-pattern heuristic, not a measurement;
the text output lists every node it sets and why), or the set \`segstream quantize --sensitivity\`
measured (--sensitivity <quantize.json>).
With --check, reads an existing YAML and lists every disagreement with the model, the preprocessing, the
camera range and the calibration files (exit 1 when there are errors).

options:
  --model <onnx>            float ONNX model (required)
  --preprocessor <json>     preprocessor_config.json (default: next to the model; else ImageNet defaults)
  --model-config <json>     config.json with id2label (default: next to the model)
  --input <kind>            nv12 (camera, default) | rgb (uint8 NHWC) | featuremap (normalised float)
  --source-range <r>        camera colour range for nv12: full (-> regular) | limited (-> bt601_video)
  --int16 <mode>            auto (heuristic: sensitive nodes int16, default) | all (set_all_nodes_int16) |
                            none | measured (needs --sensitivity)
  --sensitivity <json>      quantize.json of segstream quantize --sensitivity on this model: writes its
                            measured node_info (implies --int16 measured); with --check, checks node_info
                            against it
  --calib-dir <dir>         calibration directory (reads its segstream manifest.json for the dtype)
  --cal-data-type <t>       float32 | uint8 (default: from the manifest, else float32)
  --prefix <name>           output_model_file_prefix (default: the model name)
  --working-dir <dir>       working_dir (default: model_output)
  --out <yaml>              write the YAML here (default: print it)
  --check <yaml>            check this YAML instead of writing one
  --json                    machine-readable output on stdout
  -h, --help                this text

examples:
  segstream mapper-config --model model.onnx --input nv12 --calib-dir calib/ --out hb_mapper.yaml
  segstream mapper-config --check hb_mapper.yaml --model model.onnx --calib-dir calib/
`;

export interface MapperConfigOptions {
  model: string;
  preprocessor?: string;
  modelConfig?: string;
  input: 'nv12' | 'rgb' | 'featuremap';
  sourceRange?: 'full' | 'limited';
  int16: 'auto' | 'all' | 'none' | 'measured';
  /** quantize.json with the measured precision (int16: 'measured'). */
  sensitivity?: string;
  calibDir?: string;
  calDataType?: 'float32' | 'uint8';
  prefix?: string;
  workingDir?: string;
  /** Where the YAML will be written: onnx_model and cal_data_dir are made relative to it. */
  out?: string;
}

export interface MapperConfigResult {
  yaml: string;
  config: Record<string, unknown>;
  sensitiveNodes: SensitiveNode[];
  /** What node_info says and why (empty unless --int16 auto). */
  nodePrecisions: NodePrecisionChoice[];
  /** The text that explains the precision choice (printed in write mode). */
  precisionExplanation: string;
  /** The node_info from a measurement (--sensitivity), when given. */
  measured?: { int16: string[]; float: string[] };
  findings: Finding[];
}

function relativeTo(out: string | undefined, target: string): string {
  if (!out) return target;
  const rel = path.relative(path.dirname(path.resolve(out)), path.resolve(target));
  return rel === '' ? '.' : rel.startsWith('.') ? rel : `./${rel}`;
}

/** Builds the YAML for a model; the findings say what was assumed and what the self-check found. */
export async function generateMapperConfig(o: MapperConfigOptions, ctx?: ModelContext): Promise<MapperConfigResult> {
  const mc = ctx ?? (await loadModelContext(o.model, { ...(o.preprocessor ? { preprocessorPath: o.preprocessor } : {}), ...(o.modelConfig ? { configPath: o.modelConfig } : {}) }));
  const { info, graph } = mc;
  const findings: Finding[] = [];
  if (info.input.dtype !== 'float32') {
    throw new UsageError(`--model ${o.model}: input ${info.input.name} is ${info.input.dtype}; hb_mapper configs here are for float ONNX models (pass the float export)`);
  }
  const sens = findTransformerSensitiveNodes(graph);
  if (sens.unnamed > 0) findings.push(finding('unnamed-nodes', 'warning', `${sens.unnamed} transformer-sensitive nodes have no name, so node_info cannot list them`, { fix: 'use --int16 all, or re-export with node names' }));
  if (o.int16 === 'auto' && sens.nodes.length === 0) findings.push(finding('no-sensitive-nodes', 'info', 'no Softmax / LayerNorm / GELU / attention MatMul nodes found: node_info left empty'));
  if (o.int16 === 'auto' && sens.nodes.length > 0) {
    findings.push(
      finding('int16-heuristic', 'info', `node_info lists ${sens.nodes.length} nodes as int16 by op type (every Softmax, LayerNorm, GELU and attention MatMul): a heuristic, not a measurement`, {
        fix: 'segstream quantize --model <onnx> --images <dir> --out <dir> --sensitivity measures which nodes need int16; then mapper-config --sensitivity <dir>/quantize.json',
      }),
    );
  }
  if (o.int16 === 'measured' && !o.sensitivity) throw new UsageError('--int16 measured needs --sensitivity <quantize.json> (from segstream quantize --sensitivity)');
  let measured: Awaited<ReturnType<typeof readMeasuredPrecision>> | undefined;
  if (o.sensitivity) {
    try {
      measured = await readMeasuredPrecision(o.sensitivity);
      await checkSameModel(measured, info.path);
    } catch (err) {
      throw new UsageError(`--sensitivity: ${(err as Error).message}`);
    }
    findings.push(...measuredFindings(measured));
  }

  let calDataType = o.calDataType;
  let calDir = o.calibDir ?? './calibration';
  if (o.calibDir) {
    const calibDir = o.calibDir;
    const manifest = await readCalibManifest(calibDir);
    if (manifest) {
      const wanted = o.input === 'featuremap' ? ['featuremap'] : ['rgb', 'nv12'];
      if (!wanted.includes(manifest.format)) {
        throw new UsageError(`--calib-dir ${o.calibDir}: its files were written with --format ${manifest.format}, but --input ${o.input} needs ${wanted.join(' or ')} calibration data (segstream calib --format ${wanted[0]})`);
      }
      if (calDataType && calDataType !== manifest.dtype) {
        throw new UsageError(`--cal-data-type ${calDataType} disagrees with ${o.calibDir}/manifest.json, which says the files are ${manifest.dtype}`);
      }
      calDataType = manifest.dtype;
      if (manifest.layout !== info.input.layout) {
        findings.push(
          finding('calibration-layout-mismatch', 'error', `the calibration files in ${calibDir} are ${manifest.layout}, but hb_mapper reads them as input_layout_train: ${info.input.layout} (the model's layout)`, {
            fix: `rewrite them with segstream calib --layout ${info.input.layout}`,
          }),
        );
      }
      const made = manifest.preprocessing.colour?.range;
      if (made && o.sourceRange && made !== o.sourceRange) {
        throw new UsageError(`--source-range ${o.sourceRange} disagrees with ${o.calibDir}/manifest.json: its NV12 calibration frames were made as ${made} range`);
      }
      if (made && !o.sourceRange && o.input === 'nv12') {
        o = { ...o, sourceRange: made };
        findings.push(finding('source-range-from-manifest', 'info', `input_space_and_range follows the calibration manifest: the NV12 frames were made as ${made} range`));
      }
    } else {
      findings.push(finding('calib-manifest-missing', 'warning', `${o.calibDir} has no segstream calib manifest.json: cal_data_type could not be checked against the files`, { fix: 'generate the directory with segstream calib' }));
    }
    calDir = relativeTo(o.out, calibDir);
  } else {
    findings.push(finding('calib-dir-assumed', 'info', `cal_data_dir set to ${calDir}: write it with segstream calib --format ${o.input === 'featuremap' ? 'featuremap' : o.input} --out ${calDir}`));
  }
  let sourceRange = o.sourceRange;
  if (o.input === 'nv12' && !sourceRange) {
    sourceRange = 'full';
    findings.push(
      finding('source-range-assumed', 'warning', 'no --source-range given: assumed a full-range camera (input_space_and_range: regular). The range an X5 MIPI ISP emits is not documented; a wrong range shifts every colour', {
        fix: 'check the source colorimetry segstream serve reports (or run segstream verify with both ranges) and pass --source-range',
      }),
    );
  }
  const nodePrecisions = o.int16 === 'auto' ? heuristicInt16Choices(sens.nodes) : [];
  const dimAt = (dims: number[], i: number) => at(dims, i, `input "${info.input.name}" dims`);
  const shape = info.input.shape.map((d, i) => (typeof d === 'number' ? d : i === 0 ? 1 : dimAt(info.input.layout === 'NCHW' ? [1, info.input.channels, info.input.height, info.input.width] : [1, info.input.height, info.input.width, info.input.channels], i)));
  const { yaml, config } = buildMapperYaml({
    onnxModel: relativeTo(o.out, info.path),
    inputName: info.input.name,
    inputShape: shape,
    layoutTrain: info.input.layout,
    preprocess: info.preprocess,
    input: o.input,
    sourceRange: sourceRange ?? 'full',
    int16: o.int16,
    nodePrecisions,
    ...(measured ? { measuredNodeInfo: nodeInfoOf(measured.int16Nodes, measured.floatNodes) } : {}),
    calDataDir: calDir,
    calDataType: calDataType ?? 'float32',
    outputPrefix: o.prefix ?? info.name,
    workingDir: o.workingDir ?? 'model_output',
  });
  // Self-check: the generated YAML must pass its own checker (and, when measured, agree with the measurement).
  const view = parseMapperYaml(yaml, 'generated');
  const self = checkMapperConfig(view, { model: info, graph, ...(sourceRange ? { sourceRange } : {}) });
  if (measured) self.push(...checkNodeInfoAgainstMeasured(view.nodeInfo, view.optimization, measured));
  for (const f of self) if (f.severity === 'error') findings.push({ ...f, code: `self-check:${f.code}` });
  return {
    yaml,
    config,
    sensitiveNodes: sens.nodes,
    nodePrecisions,
    precisionExplanation: measured
      ? `node_info measured by segstream quantize --sensitivity: ${measured.int16Nodes.length} nodes int16, ${measured.floatNodes.length} kept float (on the CPU)\n`
      : explainNodePrecisions(nodePrecisions, o.int16 === 'measured' ? 'none' : o.int16, sens.unnamed),
    ...(measured ? { measured: { int16: measured.int16Nodes, float: measured.floatNodes } } : {}),
    findings,
  };
}

export interface MapperCheckOptions {
  yamlPath: string;
  model: string;
  preprocessor?: string;
  modelConfig?: string;
  sourceRange?: 'full' | 'limited';
  /** Overrides cal_data_dir (otherwise resolved against the YAML's directory). */
  calibDir?: string;
  /** How many calibration files to open (default 8). */
  sampleFiles?: number;
  /** quantize.json with the measured precision: node_info is checked against it. */
  sensitivity?: string;
}

export interface MapperCheckResult {
  config: MapperConfigView;
  findings: Finding[];
  calibration?: { dir: string; totalFiles: number; sampled: number };
}

async function gatherCalibration(dir: string, info: ModelInfo, view: MapperConfigView, sample: number): Promise<CalibrationEvidence> {
  let exists: boolean;
  try {
    exists = (await fs.stat(dir)).isDirectory();
  } catch {
    exists = false;
  }
  if (!exists) return { dir, files: [], totalFiles: 0, exists };
  const files = await listTensorFiles(dir);
  const manifest = await readCalibManifest(dir);
  const expectation = deriveExpectation(info, 'calibration', view);
  const analyses = [];
  for (const f of files.slice(0, sample)) analyses.push(analyseTensorFile(await readTensorFile(f), expectation));
  return {
    dir,
    files: analyses,
    totalFiles: files.length,
    exists,
    ...(manifest ? { manifest: { format: manifest.format, dtype: manifest.dtype, layout: manifest.layout } } : {}),
  };
}

export async function checkMapperConfigFile(o: MapperCheckOptions, ctx?: ModelContext): Promise<MapperCheckResult> {
  let text: string;
  try {
    text = await fs.readFile(o.yamlPath, 'utf8');
  } catch (err) {
    throw new UsageError(`--check ${o.yamlPath}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const view = parseMapperYaml(text, o.yamlPath);
  const mc = ctx ?? (await loadModelContext(o.model, { ...(o.preprocessor ? { preprocessorPath: o.preprocessor } : {}), ...(o.modelConfig ? { configPath: o.modelConfig } : {}) }));
  const calDir = o.calibDir ?? (view.calDataDir ? path.resolve(path.dirname(o.yamlPath), view.calDataDir) : undefined);
  const calibration = calDir ? await gatherCalibration(calDir, mc.info, view, o.sampleFiles ?? 8) : undefined;
  let findings = checkMapperConfig(view, {
    model: mc.info,
    graph: mc.graph,
    ...(o.sourceRange ? { sourceRange: o.sourceRange } : {}),
    ...(calibration ? { calibration } : {}),
  });
  if (o.sensitivity) {
    let measured;
    try {
      measured = await readMeasuredPrecision(o.sensitivity);
      await checkSameModel(measured, mc.info.path);
    } catch (err) {
      throw new UsageError(`--sensitivity: ${(err as Error).message}`);
    }
    // The measurement replaces the op-type heuristic.
    findings = findings.filter((f) => f.code !== 'sensitive-nodes-int8');
    findings.push(...measuredFindings(measured), ...checkNodeInfoAgainstMeasured(view.nodeInfo, view.optimization, measured));
  }
  // The model itself: a .bin was compiled from some ONNX; say which one this YAML names.
  if (view.onnxModel) {
    const named = path.resolve(path.dirname(o.yamlPath), view.onnxModel);
    if (named !== path.resolve(mc.info.path)) {
      findings.push(finding('onnx-model-differs', 'info', `the YAML compiles ${view.onnxModel}; the model checked against is ${mc.info.path}`, { subject: 'model_parameters.onnx_model' }));
    }
  }
  return {
    config: view,
    findings,
    ...(calibration ? { calibration: { dir: calibration.dir, totalFiles: calibration.totalFiles, sampled: calibration.files.length } } : {}),
  };
}

export async function main(argv: string[]): Promise<number> {
  const options = {
    model: { type: 'string' },
    ...MODEL_FILE_OPTIONS,
    input: { type: 'string' },
    'source-range': { type: 'string' },
    int16: { type: 'string' },
    'calib-dir': { type: 'string' },
    'cal-data-type': { type: 'string' },
    prefix: { type: 'string' },
    'working-dir': { type: 'string' },
    out: { type: 'string' },
    check: { type: 'string' },
    sensitivity: { type: 'string' },
    json: { type: 'boolean' },
  } as const satisfies Options;
  return runCli({ name: 'mapper-config', options, help: HELP }, argv, async ({ values }) => {
    const json = values.json === true;
    const model = requiredString(values, 'model', 'the float ONNX model the YAML compiles');
    const sourceRange = parseChoice('source-range', optionalString(values, 'source-range'), ['full', 'limited'] as const);
    const calibDir = optionalString(values, 'calib-dir');
    const check = optionalString(values, 'check');
    const sensitivity = optionalString(values, 'sensitivity');
    const common = { model, ...modelFileFlags(values), ...(sourceRange ? { sourceRange } : {}) };

    if (check) {
      for (const k of ['input', 'int16', 'out', 'prefix', 'working-dir', 'cal-data-type']) {
        if (values[k] !== undefined) throw new UsageError(`--${k} applies when writing a YAML, not with --check`);
      }
      const r = await checkMapperConfigFile({ ...common, yamlPath: check, ...(calibDir ? { calibDir } : {}), ...(sensitivity ? { sensitivity } : {}) });
      if (json) printJson({ yaml: check, findings: r.findings, calibration: r.calibration ?? null });
      else process.stdout.write(`${check}:\n${formatFindings(r.findings)}`);
      return hasErrors(r.findings) ? EXIT_FAILED_CHECKS : EXIT_OK;
    }

    const input = parseChoice('input', optionalString(values, 'input'), ['nv12', 'rgb', 'featuremap'] as const, 'nv12');
    if (sourceRange && input !== 'nv12') throw new UsageError(`--source-range applies to --input nv12 only (got --input ${input}): rgb and featuremap inputs carry no YUV range`);
    const int16Given = parseChoice('int16', optionalString(values, 'int16'), ['auto', 'all', 'none', 'measured'] as const);
    if (sensitivity && int16Given && int16Given !== 'measured') throw new UsageError(`--sensitivity writes the measured node_info; it cannot be combined with --int16 ${int16Given}`);
    const int16 = sensitivity ? 'measured' : (int16Given ?? 'auto');
    const calDataType = parseChoice('cal-data-type', optionalString(values, 'cal-data-type'), ['float32', 'uint8'] as const);
    if (input === 'featuremap' && calDataType === 'uint8') throw new UsageError('--cal-data-type uint8 cannot hold normalised featuremap values (about -2.1..2.6): use float32');
    const out = optionalString(values, 'out');
    const prefix = optionalString(values, 'prefix');
    const workingDir = optionalString(values, 'working-dir');
    const r = await generateMapperConfig({
      ...common,
      input,
      int16,
      ...(sensitivity ? { sensitivity } : {}),
      ...(calibDir ? { calibDir } : {}),
      ...(calDataType ? { calDataType } : {}),
      ...(prefix ? { prefix } : {}),
      ...(workingDir ? { workingDir } : {}),
      ...(out ? { out } : {}),
    });
    if (out) await writeFileAtomic(out, r.yaml);
    if (json) {
      printJson({ out: out ?? null, yaml: r.yaml, config: r.config, int16Nodes: r.measured ? r.measured.int16.length : r.sensitiveNodes.length, nodePrecisions: r.nodePrecisions, findings: r.findings });
    } else {
      // The YAML alone goes to stdout (so it can be redirected); everything said about it goes to stderr.
      if (!out) process.stdout.write(r.yaml);
      else process.stderr.write(`wrote ${out} (${int16 === 'auto' ? `${r.sensitiveNodes.length} nodes int16 in node_info (heuristic)` : int16 === 'measured' ? `measured node_info: ${r.measured?.int16.length ?? 0} nodes int16, ${r.measured?.float.length ?? 0} on the CPU` : int16 === 'all' ? 'all nodes int16' : 'int8 only'})\n`);
      process.stderr.write(r.precisionExplanation);
      if (r.findings.length > 0) process.stderr.write(formatFindings(r.findings));
    }
    return hasErrors(r.findings) ? EXIT_FAILED_CHECKS : EXIT_OK;
  });
}

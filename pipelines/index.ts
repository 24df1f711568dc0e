/** The named pipelines. A source spec (from config or CLI) is turned into a launch string here and only here. */
import { PipelineSpecError } from './common.ts';
import { fileLaunch, type FileSourceSpec } from './file.ts';
import { rtspLaunch, type RtspSourceSpec } from './rtsp.ts';
import { testLaunch, type TestSourceSpec } from './test-pattern.ts';
import { usbLaunch, type UsbSourceSpec } from './usb.ts';
import { x5MipiLaunch, type X5MipiSourceSpec } from './x5-mipi.ts';

export { MODEL_APPSINK_NAME } from './x5-mipi.ts';

export { APPSINK_NAME, INPUT_PROBE_SINK_NAME, PipelineSpecError } from './common.ts';
export { letterboxRect, type InputPicture, type PictureRect } from './letterbox.ts';
export { fileKind } from './file.ts';
export type { FileSourceSpec, RtspSourceSpec, TestSourceSpec, UsbSourceSpec, X5MipiSourceSpec };

export type SourceSpec = TestSourceSpec | FileSourceSpec | UsbSourceSpec | X5MipiSourceSpec | RtspSourceSpec;
export type SourceKind = SourceSpec['kind'];
export const SOURCE_KINDS: SourceKind[] = ['test', 'file', 'usb', 'x5-mipi', 'rtsp'];

export function buildLaunch(name: string, spec: SourceSpec): string {
  switch (spec.kind) {
    case 'test':
      return testLaunch(name, spec);
    case 'file':
      return fileLaunch(name, spec);
    case 'usb':
      return usbLaunch(name, spec);
    case 'x5-mipi':
      return x5MipiLaunch(name, spec);
    case 'rtsp':
      return rtspLaunch(name, spec);
    default:
      throw new PipelineSpecError(name, 'kind', `expected one of ${SOURCE_KINDS.join(', ')}, got ${JSON.stringify((spec as { kind: unknown }).kind)}`);
  }
}

import { checkFramerate, checkSize, nv12Tail, PipelineSpecError, type OutputSize } from './common.ts';

/** `test`: videotestsrc with a moving pattern; needs no camera. */
export interface TestSourceSpec extends OutputSize {
  kind: 'test';
  /** A videotestsrc pattern name. */
  pattern?: string;
  framerate?: number;
  /** Paced at the frame rate like a camera (true) or as fast as the consumer takes frames (false, for bench). */
  live?: boolean;
  /** Pixels per frame the pattern scrolls, so consecutive frames differ. */
  speed?: number;
}

const PATTERNS = new Set(['smpte', 'snow', 'ball', 'checkers-8', 'circular', 'zone-plate', 'gamut', 'pinwheel', 'spokes', 'gradient', 'colors', 'smpte75', 'bar']);

export function testLaunch(name: string, spec: TestSourceSpec): string {
  checkSize(name, spec);
  const pattern = spec.pattern ?? 'smpte';
  if (!PATTERNS.has(pattern)) {
    throw new PipelineSpecError(name, 'pattern', `expected one of ${[...PATTERNS].join(', ')}, got ${JSON.stringify(pattern)}`);
  }
  const rate = checkFramerate(name, spec.framerate ?? 30);
  const speed = spec.speed ?? 4;
  if (!Number.isInteger(speed) || Math.abs(speed) > 1000) {
    throw new PipelineSpecError(name, 'speed', `expected an integer from -1000 to 1000, got ${JSON.stringify(speed)}`);
  }
  const live = spec.live ?? true;
  return (
    `videotestsrc pattern=${pattern} is-live=${live} horizontal-speed=${speed} ! ` +
    `video/x-raw,framerate=${rate},width=${spec.width},height=${spec.height} ! ` +
    nv12Tail(spec)
  );
}

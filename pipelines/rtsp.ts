import { checkSize, nv12Tail, PipelineSpecError, quoteValue, type OutputSize } from './common.ts';

/** `rtsp`: a network camera; rtspsrc + decodebin, low latency, TCP optional. */
export interface RtspSourceSpec extends OutputSize {
  kind: 'rtsp';
  url: string;
  latencyMs?: number;
  tcp?: boolean;
}

export function rtspLaunch(name: string, spec: RtspSourceSpec): string {
  checkSize(name, spec);
  if (typeof spec.url !== 'string' || !/^rtsps?:\/\/[^\s"]+$/.test(spec.url)) {
    throw new PipelineSpecError(name, 'url', `expected an rtsp:// or rtsps:// URL without spaces or quotes, got ${JSON.stringify(spec.url)}`);
  }
  const latency = spec.latencyMs ?? 100;
  if (!Number.isInteger(latency) || latency < 0 || latency > 10000) {
    throw new PipelineSpecError(name, 'latencyMs', `expected an integer from 0 to 10000, got ${JSON.stringify(latency)}`);
  }
  const protocols = spec.tcp ? ' protocols=tcp' : '';
  return `rtspsrc location=${quoteValue(name, 'url', spec.url)} latency=${latency}${protocols} ! decodebin ! ${nv12Tail(spec, { probeInput: true })}`;
}

/**
 * The WebSocket protocol between the server and the viewer. Pure TypeScript with no Node imports: the
 * viewer (client/) imports this same file, so both ends agree by construction.
 *
 * Server -> client, binary: one message per frame:
 *   [u32 LE header length][header JSON, UTF-8][JPEG bytes][class map bytes]
 * The header says where the JPEG and class map sit (offsets from the start of the message).
 * Server -> client, text: JSON `hello`, `status`, `stats`, `error`, `control-result` messages.
 * Client -> server, text: JSON `drawn` (frame age) and `control` messages; nothing else is accepted.
 */

export const PROTOCOL_VERSION = 1;

export type StageTimings = Partial<Record<'capture' | 'preprocess' | 'infer' | 'postprocess' | 'overlay' | 'encode' | 'send', number>>;

export interface FrameHeader {
  type: 'frame';
  id: number;
  /** Wall-clock capture time on the server (ms since the epoch). */
  captureTime: number;
  /** Frame size (the JPEG's size). */
  width: number;
  height: number;
  /** True when the server already blended the overlay into the JPEG. */
  overlaid: boolean;
  jpeg: { offset: number; length: number };
  classMap: {
    offset: number;
    length: number;
    width: number;
    height: number;
    /** 1 for up to 256 classes, 2 beyond (little-endian). */
    bytesPerPixel: 1 | 2;
    /** `deflate-raw` (DecompressionStream('deflate-raw') in the browser) or `raw`. */
    encoding: 'deflate-raw' | 'raw';
  };
  /** Milliseconds per stage for this frame. */
  stages: StageTimings;
  /** Classes present: [class id, pixel count] sorted by count, descending. */
  classes: [number, number][];
  /** Frames dropped so far: by the source (latest wins while busy) and for this client (slow link). */
  dropped: { source: number; inference: number; client: number };
  /** Temporal smoothing window (frames) applied to the class map, 0 when off. */
  smoothing: number;
}

export interface ModelSummary {
  name: string;
  backend: 'onnx' | 'bpu';
  inputName: string;
  inputSize: [number, number];
  inputKind: string;
  outputSize: [number, number];
  classes: number;
  untrainedDemo: boolean;
}

export interface SourceSummary {
  name: string;
  kind: string;
  width: number;
  height: number;
  framerate: string;
  colorimetry: string;
  caps: string;
}

export interface HelloMessage {
  type: 'hello';
  protocol: number;
  server: string;
  model: ModelSummary;
  source: SourceSummary;
  classNames: string[];
  /** [r, g, b] per class id. */
  palette: [number, number, number][];
  postprocess: string;
  /** Post-processing modes `set-postprocess` accepts (optional: older servers omit it; the viewer then offers only the current one). */
  postprocessModes?: string[];
  jpegQuality: number;
  /** Names the server's config offers for switching (never paths). */
  sources: string[];
  models: string[];
  /** True when the server has a control token configured (controls need it). */
  controlsAvailable: boolean;
}

export type StreamState = 'starting' | 'live' | 'source-lost' | 'backend-error' | 'stopped';

export interface StatusMessage {
  type: 'status';
  state: StreamState;
  /** Wall-clock ms when this state began. */
  since: number;
  message: string;
}

export interface StatsMessage {
  type: 'stats';
  /** Glass-to-glass frame age for this client (capture -> drawn ack received), ms. */
  frameAge: { p50: number; p90: number; p99: number; last: number; count: number } | null;
  fps: { source: number; inference: number; sent: number };
  modelMs: number;
}

export interface ErrorMessage {
  type: 'error';
  message: string;
}

export interface ControlResultMessage {
  type: 'control-result';
  action: string;
  ok: boolean;
  message: string;
}

export type ServerTextMessage = HelloMessage | StatusMessage | StatsMessage | ErrorMessage | ControlResultMessage;

export type ControlAction =
  | { action: 'set-source'; value: string }
  | { action: 'set-model'; value: string }
  | { action: 'set-postprocess'; value: string }
  | { action: 'set-jpeg-quality'; value: number }
  | { action: 'set-smoothing'; value: number };

export type ClientMessage =
  | { type: 'drawn'; id: number }
  | ({ type: 'control'; token: string } & ControlAction);

/** Builds one binary frame message. */
export function encodeFrameMessage(
  header: Omit<FrameHeader, 'jpeg' | 'classMap'> & { classMap: Omit<FrameHeader['classMap'], 'offset' | 'length'> },
  jpeg: Uint8Array,
  classMap: Uint8Array,
): Uint8Array {
  // Offsets depend on the header's own length, which depends on the offsets' digits: iterate to a fixed point.
  const encoder = new TextEncoder();
  let headerBytes = new Uint8Array(0);
  let full: FrameHeader | null = null;
  for (let guess = 0, i = 0; i < 4; i++) {
    const base = 4 + guess;
    full = {
      ...header,
      jpeg: { offset: base, length: jpeg.length },
      classMap: { ...header.classMap, offset: base + jpeg.length, length: classMap.length },
    } as FrameHeader;
    headerBytes = encoder.encode(JSON.stringify(full));
    if (headerBytes.length === guess) break;
    guess = headerBytes.length;
  }
  const total = 4 + headerBytes.length + jpeg.length + classMap.length;
  const out = new Uint8Array(total);
  new DataView(out.buffer).setUint32(0, headerBytes.length, true);
  out.set(headerBytes, 4);
  out.set(jpeg, 4 + headerBytes.length);
  out.set(classMap, 4 + headerBytes.length + jpeg.length);
  return out;
}

/** Splits a binary frame message into its header and payload views. Throws on a malformed message. */
export function decodeFrameMessage(message: Uint8Array): { header: FrameHeader; jpeg: Uint8Array; classMap: Uint8Array } {
  if (message.length < 4) throw new Error(`frame message too short: ${message.length} bytes`);
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  const headerLength = view.getUint32(0, true);
  if (4 + headerLength > message.length) throw new Error(`frame header length ${headerLength} exceeds message (${message.length} bytes)`);
  const header = JSON.parse(new TextDecoder().decode(message.subarray(4, 4 + headerLength))) as FrameHeader;
  if (header.type !== 'frame') throw new Error(`expected a frame header, got type ${String(header.type)}`);
  const { jpeg, classMap } = header;
  if (jpeg.offset + jpeg.length > message.length || classMap.offset + classMap.length > message.length) {
    throw new Error('frame payload offsets exceed the message');
  }
  return {
    header,
    jpeg: message.subarray(jpeg.offset, jpeg.offset + jpeg.length),
    classMap: message.subarray(classMap.offset, classMap.offset + classMap.length),
  };
}

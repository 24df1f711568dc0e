/**
 * The binary frame message, server -> viewer, one per frame:
 *   [u32 LE header length][header JSON, UTF-8][JPEG bytes][class map bytes]
 * The header says where the JPEG and class map sit (offsets from the start of the message). The message is the
 * same for every viewer (encoded once per frame); per-viewer numbers travel in the `stats` text message.
 */
import type { StageTimings } from './stages.ts';

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
  /**
   * Frames dropped so far on the server, by where (the same names as /metrics `segstream_frames_dropped_total`):
   * a newer frame replaced one waiting for the busy model, or a frame came back while two were being rendered.
   * Frames dropped for this viewer's slow link are in its `stats` message (`slowLink`).
   */
  dropped: { inferenceBusy: number; renderBusy: number };
  /** Temporal smoothing window (frames) applied to the class map, 0 when off. */
  smoothing: number;
}

export type FrameHeaderFields = Omit<FrameHeader, 'jpeg' | 'classMap'> & { classMap: Omit<FrameHeader['classMap'], 'offset' | 'length'> };

/** Builds one binary frame message. */
export function encodeFrameMessage(
  header: FrameHeaderFields,
  jpeg: Uint8Array,
  classMap: Uint8Array,
): Uint8Array {
  // Offsets depend on the header's own length, which depends on the offsets' digits: iterate to a fixed point.
  const encoder = new TextEncoder();
  let headerBytes = new Uint8Array(0);
  let full: FrameHeader | null;
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

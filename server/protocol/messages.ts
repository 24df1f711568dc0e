/**
 * The text messages of the WebSocket protocol between the server and the viewer (JSON).
 * Server -> viewer: `hello`, `status`, `stats`, `error`, `control-result`.
 * Viewer -> server: `drawn` (frame age) and `control`; nothing else is accepted.
 * This folder is Node-free (its own tsconfig has no Node types): the viewer imports it as `$protocol`.
 */
import type { ControlAction } from './controls.ts';
import type { PostprocessMode } from './postprocess-modes.ts';

/** Bumped whenever a message changes shape; a viewer of another version reloads itself. */
export const PROTOCOL_VERSION = 2;

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
  /** The frame size (what the model and the viewer get). */
  width: number;
  height: number;
  framerate: string;
  colorimetry: string;
  caps: string;
  /**
   * The source's own picture before it was scaled to the frame, and the rectangle it fills in the frame (black
   * bars around it when its shape differs: letterboxed). Present when the server knows it (file and RTSP sources,
   * once the first frame has passed); optional, so an older viewer ignores it.
   */
  input?: SourceInput;
}

export interface SourceInput {
  width: number;
  height: number;
  /** As GStreamer writes it, e.g. "1/1". */
  pixelAspectRatio: string;
  /** In frame pixels; the whole frame when the picture has the frame's shape. */
  picture: { x: number; y: number; width: number; height: number };
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
  postprocess: PostprocessMode;
  /** Post-processing modes `set-postprocess` accepts. */
  postprocessModes: PostprocessMode[];
  jpegQuality: number;
  /** Server-side temporal smoothing window in frames (0 = off), set with `set-smoothing`. */
  smoothing: number;
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
  /** Frames not sent to this viewer because its link was still busy with an earlier one (newest wins). */
  slowLink: number;
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

export type ClientMessage =
  | { type: 'drawn'; id: number }
  | ({ type: 'control'; token: string } & ControlAction);


/** Prometheus exposition (/metrics) of the running stream: counters, rates and per-stage latency. */
import type { StreamState } from '../protocol/index.ts';
import { renderMetrics, type Histogram, type Sampled } from '../util/prometheus.ts';

/** The numbers /metrics shows, read when it is scraped. */
export interface StreamFigures {
  framesCaptured: number;
  framesInferred: number;
  framesSent: number;
  dropped: { inferenceBusy: number; renderBusy: number; slowClient: number };
  stallDisconnects: number;
  refusedConnections: number;
  sourceRestarts: number;
  backendErrors: number;
  workerRestarts: number;
  clients: number;
  fps: { source: number; inference: number; sent: number };
  modelMs: number;
  state: StreamState;
}

export function streamMetricsText(read: () => StreamFigures, histograms: Histogram[]): string {
  const f = read();
  const sampled: Sampled[] = [
    { name: 'segstream_frames_captured_total', help: 'Frames delivered by the source', type: 'counter', read: () => f.framesCaptured },
    { name: 'segstream_frames_inferred_total', help: 'Frames that completed inference', type: 'counter', read: () => f.framesInferred },
    { name: 'segstream_frames_sent_total', help: 'Frames rendered and offered to viewers', type: 'counter', read: () => f.framesSent },
    {
      name: 'segstream_frames_dropped_total',
      help: 'Frames dropped, by where',
      type: 'counter',
      read: () => [
        { labels: { where: 'inference-busy' }, value: f.dropped.inferenceBusy },
        { labels: { where: 'render-busy' }, value: f.dropped.renderBusy },
        { labels: { where: 'slow-client' }, value: f.dropped.slowClient },
      ],
    },
    { name: 'segstream_client_disconnects_total', help: 'Viewers disconnected because their socket stopped draining', type: 'counter', read: () => [{ labels: { reason: 'stalled' }, value: f.stallDisconnects }] },
    { name: 'segstream_clients_refused_total', help: 'WebSocket connections refused (origin not allowed, or server full)', type: 'counter', read: () => f.refusedConnections },
    { name: 'segstream_source_restarts_total', help: 'Source pipeline rebuilds by the watchdog', type: 'counter', read: () => f.sourceRestarts },
    { name: 'segstream_backend_errors_total', help: 'Frames that failed in inference or rendering', type: 'counter', read: () => f.backendErrors },
    { name: 'segstream_worker_restarts_total', help: 'Inference worker restarts', type: 'counter', read: () => f.workerRestarts },
    { name: 'segstream_clients', help: 'Connected viewers', type: 'gauge', read: () => f.clients },
    {
      name: 'segstream_fps',
      help: 'Frames per second over the last 2 s',
      type: 'gauge',
      read: () => [
        { labels: { stage: 'source' }, value: f.fps.source },
        { labels: { stage: 'inference' }, value: f.fps.inference },
        { labels: { stage: 'sent' }, value: f.fps.sent },
      ],
    },
    { name: 'segstream_model_latency_milliseconds', help: 'Last inference time', type: 'gauge', read: () => f.modelMs },
    { name: 'segstream_up', help: '1 when the stream is live', type: 'gauge', read: () => [{ labels: { state: f.state }, value: f.state === 'live' ? 1 : 0 }] },
  ];
  return renderMetrics(sampled, histograms);
}

/** Prometheus exposition (/metrics) of the running stream: counters, rates and per-stage latency. */
import type { StreamState } from '../protocol/index.ts';
import { readFileSync, readdirSync } from 'node:fs';
import { renderMetrics, type Histogram, type Sampled } from '../util/prometheus.ts';

function openFds(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return NaN;
  }
}

function residentBytes(): number {
  // VmRSS from /proc (what `ps` and the OOM killer see); process.memoryUsage().rss is the same figure elsewhere.
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.memoryUsage().rss;
}

/** The numbers /metrics shows, read when it is scraped. */
export interface StreamFigures {
  framesCaptured: number;
  framesInferred: number;
  framesSent: number;
  dropped: { inferenceBusy: number; renderBusy: number; slowClient: number };
  stallDisconnects: number;
  refusedConnections: number;
  /** WebSocket upgrades refused, by reason (path, host, origin, full, per-address, handshake). */
  viewersRefused: Record<string, number>;
  /** Viewers disconnected by the server, by reason (stalled, abuse, buffer). */
  viewerDisconnects: Record<string, number>;
  messagesLeftOut: number;
  connections: number;
  connectionsRefused: { total: number; perAddress: number; evicted: number };
  forbiddenHosts: number;
  consecutiveInferenceFailures: number;
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
    {
      name: 'segstream_client_disconnects_total',
      help: 'Viewers disconnected by the server: stalled (not reading), abuse (too many invalid messages), buffer (send buffer over budget)',
      type: 'counter',
      read: () => Object.entries({ stalled: f.stallDisconnects, abuse: 0, buffer: 0, ...f.viewerDisconnects }).map(([reason, value]) => ({ labels: { reason }, value })),
    },
    { name: 'segstream_clients_refused_total', help: 'WebSocket connections refused (any reason)', type: 'counter', read: () => f.refusedConnections },
    {
      name: 'segstream_clients_refused_by_reason_total',
      help: 'WebSocket connections refused, by reason (path, host, origin, full, per-address, handshake)',
      type: 'counter',
      read: () => Object.entries(f.viewersRefused).map(([reason, value]) => ({ labels: { reason }, value })),
    },
    { name: 'segstream_client_messages_left_out_total', help: 'Replies and stats not sent to a viewer over its reply rate or send buffer', type: 'counter', read: () => f.messagesLeftOut },
    { name: 'segstream_connections', help: 'Open TCP connections (HTTP and WebSocket)', type: 'gauge', read: () => f.connections },
    {
      name: 'segstream_connections_refused_total',
      help: 'TCP connections closed by the limits: over server.maxConnections (total), over server.maxConnectionsPerAddress (per-address), or closed to make room for a peer with fewer (evicted)',
      type: 'counter',
      read: () => [
        { labels: { reason: 'total' }, value: f.connectionsRefused.total },
        { labels: { reason: 'per-address' }, value: f.connectionsRefused.perAddress },
        { labels: { reason: 'evicted' }, value: f.connectionsRefused.evicted },
      ],
    },
    { name: 'segstream_http_forbidden_host_total', help: 'HTTP requests refused for a Host header not in server.allowedHosts (DNS rebinding)', type: 'counter', read: () => f.forbiddenHosts },
    { name: 'segstream_inference_consecutive_failures', help: 'Frames in a row that failed in inference (0 after a success)', type: 'gauge', read: () => f.consecutiveInferenceFailures },
    { name: 'process_resident_memory_bytes', help: 'Resident memory of the server process', type: 'gauge', read: () => residentBytes() },
    { name: 'process_open_fds', help: 'Open file descriptors of the server process', type: 'gauge', read: () => openFds() },
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

/**
 * Viewer options from the page URL. Everything a kiosk needs is settable here, so a kiosk can be configured
 * by its start URL alone (e.g. `/?kiosk&mode=overlay&opacity=0.6`).
 */

export const VIEW_MODES = ['overlay', 'mask', 'raw', 'side-by-side'] as const;
export type ViewMode = (typeof VIEW_MODES)[number];

export const RENDERERS = ['auto', '2d', 'webgl'] as const;
export type RendererChoice = (typeof RENDERERS)[number];

export interface ViewerOptions {
  kiosk: boolean;
  /** Control token from `?token=`; removed from the visible URL after reading. */
  token: string;
  mode: ViewMode;
  /** Overlay opacity, 0..1. */
  opacity: number;
  /** Viewer-side temporal smoothing window in frames (0 = off, else 3 or 5). */
  smoothing: 0 | 3 | 5;
  renderer: RendererChoice;
  /** WebSocket URL of the stream. */
  wsUrl: string;
  /** Problems found in the URL, shown to the user instead of failing silently. */
  warnings: string[];
}

function isFlagOn(params: URLSearchParams, name: string): boolean {
  if (!params.has(name)) return false;
  const value = (params.get(name) ?? '').toLowerCase();
  return value !== '0' && value !== 'false' && value !== 'no';
}

/** Parses the page URL; invalid values fall back to defaults with a warning naming the parameter. */
export function parseViewerOptions(href: string): ViewerOptions {
  const url = new URL(href);
  const params = url.searchParams;
  const warnings: string[] = [];

  let mode: ViewMode = 'overlay';
  const modeParam = params.get('mode');
  if (modeParam !== null) {
    if ((VIEW_MODES as readonly string[]).includes(modeParam)) mode = modeParam as ViewMode;
    else warnings.push(`mode: expected one of ${VIEW_MODES.join(', ')}, got "${modeParam}"`);
  }

  let opacity = 0.55;
  const opacityParam = params.get('opacity');
  if (opacityParam !== null) {
    const value = Number(opacityParam);
    if (Number.isFinite(value) && value >= 0 && value <= 1) opacity = value;
    else warnings.push(`opacity: expected a number from 0 to 1, got "${opacityParam}"`);
  }

  let smoothing: 0 | 3 | 5 = 0;
  const smoothParam = params.get('smooth');
  if (smoothParam !== null) {
    if (smoothParam === '0' || smoothParam === '3' || smoothParam === '5') smoothing = Number(smoothParam) as 0 | 3 | 5;
    else warnings.push(`smooth: expected 0, 3 or 5 (frames), got "${smoothParam}"`);
  }

  let renderer: RendererChoice = 'auto';
  const rendererParam = params.get('renderer');
  if (rendererParam !== null) {
    if ((RENDERERS as readonly string[]).includes(rendererParam)) renderer = rendererParam as RendererChoice;
    else warnings.push(`renderer: expected one of ${RENDERERS.join(', ')}, got "${rendererParam}"`);
  }

  let wsUrl: string;
  const wsParam = params.get('ws');
  if (wsParam !== null && /^wss?:\/\//.test(wsParam)) {
    wsUrl = wsParam;
  } else {
    if (wsParam !== null) warnings.push(`ws: expected a ws:// or wss:// URL, got "${wsParam}"`);
    // Relative to the page, so the viewer also works behind a reverse proxy under a path prefix.
    const ws = new URL('ws', url);
    ws.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    ws.search = '';
    ws.hash = '';
    wsUrl = ws.toString();
  }

  return { kiosk: isFlagOn(params, 'kiosk'), token: params.get('token') ?? '', mode, opacity, smoothing, renderer, wsUrl, warnings };
}

/** The same URL without the token, so it does not linger in the address bar, history or screenshots. */
export function urlWithoutToken(href: string): string | null {
  const url = new URL(href);
  if (!url.searchParams.has('token')) return null;
  url.searchParams.delete('token');
  return url.toString();
}

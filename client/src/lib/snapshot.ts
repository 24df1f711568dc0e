/** Snapshot downloads: the frame as currently viewed (full JPEG resolution) and the class map with its ids. */
import type { DecodedFrame } from './frame-pipeline.ts';
import type { ClassColours, ViewSettings } from './render/compositor.ts';
import { Canvas2dCompositor } from './render/canvas2d.ts';
import { showsClassMap } from './render/layout.ts';
import { encodeClassMapPng } from './png.ts';

/** Renders the frame at its own resolution (twice as wide side by side) with the current view settings. */
export async function framePng(frame: DecodedFrame, view: ViewSettings, colours: ClassColours): Promise<Blob> {
  const { width, height } = frame.header;
  const gap = view.mode === 'side-by-side' ? Math.max(1, Math.round(height * 0.01)) : 0;
  const canvas = new OffscreenCanvas(view.mode === 'side-by-side' ? width * 2 + gap : width, height);
  const compositor = new Canvas2dCompositor(canvas);
  compositor.setColours(colours);
  if (frame.classMap === null && showsClassMap(view.mode, frame.header.overlaid)) {
    // The map is inflated first; the viewer may close the frame's bitmap meanwhile, so draw from a copy taken now.
    const image = await createImageBitmap(frame.image);
    try {
      const classMap = await frame.loadClassMap();
      compositor.draw({ image, width, height, overlaid: frame.header.overlaid, classMap }, view);
    } finally {
      image.close();
    }
  } else {
    compositor.draw({ image: frame.image, width, height, overlaid: frame.header.overlaid, classMap: frame.classMap }, view);
  }
  compositor.destroy();
  return canvas.convertToBlob({ type: 'image/png' });
}

export async function classMapPng(frame: DecodedFrame, palette: ClassColours['palette'], classNames: readonly string[]): Promise<Blob> {
  const bytes = await encodeClassMapPng({ ...(frame.classMap ?? (await frame.loadClassMap())), palette, classNames });
  return new Blob([bytes as BlobPart], { type: 'image/png' });
}

/** Starts a browser download of `blob`. */
export function downloadBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
  // Revoke later: the download reads the URL asynchronously.
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

/** File name stem: segstream-<frame id>-<UTC time>. */
export function snapshotName(frame: DecodedFrame, kind: 'frame' | 'classmap'): string {
  const stamp = new Date(frame.header.captureTime).toISOString().replace(/[:.]/g, '-');
  return `segstream-${frame.header.id}-${stamp}-${kind}.png`;
}

/**
 * 2D-canvas compositor: the class map is turned into an RGBA mask at its own size with one table look-up per
 * pixel, then scaled onto the frame by drawImage with smoothing off (nearest sampling).
 */
import { layoutViewports } from './layout.ts';
import { BACKGROUND_CSS, packedColourTable, type ClassColours, type CompositeFrame, type Compositor, type ViewSettings } from './compositor.ts';
import type { ClassIds } from '../class-map.ts';

type Context2D = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;
type Surface = HTMLCanvasElement | OffscreenCanvas;

function makeSurface(width: number, height: number): Surface {
  if (typeof OffscreenCanvas !== 'undefined') return new OffscreenCanvas(width, height);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

export class Canvas2dCompositor implements Compositor {
  readonly kind = '2d' as const;
  readonly usable = true;
  private readonly ctx: Context2D;
  private mask: Surface | null = null;
  private maskCtx: Context2D | null = null;
  private maskImage: ImageData | null = null;
  private table: Uint32Array = new Uint32Array(0);
  private colours: ClassColours = { palette: [], visible: () => true };
  /** The ids last painted into the mask, and whether the colours changed since. */
  private paintedIds: ClassIds | null = null;
  private coloursChanged = true;

  constructor(private readonly canvas: Surface) {
    const ctx = canvas.getContext('2d', { alpha: false }) as Context2D | null;
    if (ctx === null) throw new Error('2D canvas context is not available');
    this.ctx = ctx;
  }

  setColours(colours: ClassColours): void {
    this.colours = colours;
    this.coloursChanged = true;
  }

  draw(frame: CompositeFrame, view: ViewSettings): void {
    const { ctx } = this;
    const { width, height } = this.canvas;
    ctx.globalAlpha = 1;
    ctx.fillStyle = BACKGROUND_CSS;
    ctx.fillRect(0, 0, width, height);
    const viewports = layoutViewports(view.mode, width, height, frame.width, frame.height, frame.overlaid);
    const map = frame.classMap;
    if (map !== null && viewports.some((v) => v.layer !== 'frame')) this.paintMask(map.ids, map.width, map.height);
    for (const v of viewports) {
      if (v.width === 0 || v.height === 0) continue;
      if (v.layer === 'mask') {
        ctx.fillStyle = '#000';
        ctx.fillRect(v.x, v.y, v.width, v.height);
      } else {
        ctx.imageSmoothingEnabled = true;
        ctx.drawImage(frame.image, v.x, v.y, v.width, v.height);
      }
      if (v.layer === 'frame' || this.mask === null || map === null) continue;
      ctx.imageSmoothingEnabled = false;
      ctx.globalAlpha = v.layer === 'overlay' ? view.opacity : 1;
      ctx.drawImage(this.mask, v.x, v.y, v.width, v.height);
      ctx.globalAlpha = 1;
    }
  }

  destroy(): void {
    this.mask = null;
    this.maskCtx = null;
    this.maskImage = null;
  }

  private paintMask(ids: ClassIds, width: number, height: number): void {
    if (ids === this.paintedIds && !this.coloursChanged) return;
    if (this.mask === null || this.mask.width !== width || this.mask.height !== height) {
      this.mask = makeSurface(width, height);
      this.maskCtx = this.mask.getContext('2d') as Context2D;
      this.maskImage = this.maskCtx.createImageData(width, height);
    }
    const size = Math.max(this.colours.palette.length, ids instanceof Uint8Array ? 256 : 0);
    if (this.coloursChanged || this.table.length !== size) this.table = packedColourTable(this.colours, size);
    const words = new Uint32Array(this.maskImage!.data.buffer);
    const table = this.table;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (id === undefined) throw new Error(`mask: pixel ${i} is outside the ${ids.length} ids`);
      words[i] = table[id] ?? 0;
    }
    this.maskCtx!.putImageData(this.maskImage!, 0, 0);
    this.paintedIds = ids;
    this.coloursChanged = false;
  }
}

/**
 * WebGL2 compositor: the JPEG, the class ids (as an integer texture) and the palette go to the GPU, and one
 * fragment shader does the look-up and blend. The CPU work per frame is two texture uploads.
 */
import { layoutViewports } from './layout.ts';
import { BACKGROUND_RGB, packedColourTable, type ClassColours, type CompositeFrame, type Compositor, type ViewSettings } from './compositor.ts';
import type { ClassIds } from '../class-map.ts';

const VERTEX_SHADER = `#version 300 es
in vec2 aCorner;
out vec2 vUv;
void main() {
  vUv = aCorner;
  // Texture row 0 is the top of the picture; clip space y grows upwards.
  gl_Position = vec4(aCorner.x * 2.0 - 1.0, 1.0 - aCorner.y * 2.0, 0.0, 1.0);
}`;

const FRAGMENT_SHADER = `#version 300 es
precision mediump float;
precision highp usampler2D;
uniform sampler2D uFrame;
uniform usampler2D uClasses;
uniform sampler2D uPalette;
uniform ivec2 uMapSize;
uniform int uPaletteSize;
uniform int uLayer;      // 0 frame, 1 overlay, 2 mask
uniform float uOpacity;
in vec2 vUv;
out vec4 outColour;
void main() {
  vec3 base = texture(uFrame, vUv).rgb;
  if (uLayer == 0) { outColour = vec4(base, 1.0); return; }
  ivec2 texel = clamp(ivec2(vUv * vec2(uMapSize)), ivec2(0), uMapSize - 1);
  int id = int(texelFetch(uClasses, texel, 0).r);
  vec4 colour = id < uPaletteSize ? texelFetch(uPalette, ivec2(id % 256, id / 256), 0) : vec4(0.0);
  if (uLayer == 2) { outColour = vec4(colour.rgb * colour.a, 1.0); return; }
  outColour = vec4(mix(base, colour.rgb, colour.a * uOpacity), 1.0);
}`;

const LAYER_CODE = { frame: 0, overlay: 1, mask: 2 } as const;

function compile(gl: WebGL2RenderingContext, type: number, source: string): WebGLShader {
  const shader = gl.createShader(type)!;
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) throw new Error(`shader compile failed: ${gl.getShaderInfoLog(shader)}`);
  return shader;
}

interface GlResources {
  program: WebGLProgram;
  frameTexture: WebGLTexture;
  classTexture: WebGLTexture;
  paletteTexture: WebGLTexture;
  uniforms: Record<'mapSize' | 'paletteSize' | 'layer' | 'opacity', WebGLUniformLocation | null>;
}

export class WebGlCompositor implements Compositor {
  readonly kind = 'webgl' as const;
  private readonly gl: WebGL2RenderingContext;
  private resources: GlResources | null = null;
  private lost = false;
  private colours: ClassColours = { palette: [], visible: () => true };
  private coloursChanged = true;
  private paletteSize = 0;
  private frameSize = { width: 0, height: 0 };
  private classFormat = { width: 0, height: 0, wide: false };
  private uploadedIds: ClassIds | null = null;
  private uploadedImage: CompositeFrame['image'] | null = null;

  /** Throws when WebGL2 is not available; the caller falls back to the 2D compositor. */
  constructor(private readonly canvas: HTMLCanvasElement | OffscreenCanvas) {
    const gl = canvas.getContext('webgl2', { alpha: false, antialias: false, depth: false, stencil: false, premultipliedAlpha: false, powerPreference: 'low-power' }) as WebGL2RenderingContext | null;
    if (gl === null) throw new Error('WebGL2 is not available');
    this.gl = gl;
    canvas.addEventListener('webglcontextlost', this.onLost as EventListener);
    canvas.addEventListener('webglcontextrestored', this.onRestored as EventListener);
    this.resources = this.createResources();
  }

  get usable(): boolean {
    return !this.lost;
  }

  setColours(colours: ClassColours): void {
    this.colours = colours;
    this.coloursChanged = true;
  }

  draw(frame: CompositeFrame, view: ViewSettings): void {
    const resources = this.resources;
    if (this.lost || resources === null) return;
    const { gl } = this;
    const { width, height } = this.canvas;
    gl.viewport(0, 0, width, height);
    gl.clearColor(BACKGROUND_RGB[0], BACKGROUND_RGB[1], BACKGROUND_RGB[2], 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
    gl.useProgram(resources.program);
    this.uploadFrame(resources, frame);
    const map = frame.classMap;
    if (map !== null) {
      this.uploadClasses(resources, map.ids, map.width, map.height);
      gl.uniform2i(resources.uniforms.mapSize, map.width, map.height);
    }
    this.uploadPalette(resources);
    gl.uniform1i(resources.uniforms.paletteSize, this.paletteSize);
    gl.uniform1f(resources.uniforms.opacity, view.opacity);
    for (const v of layoutViewports(view.mode, width, height, frame.width, frame.height, frame.overlaid)) {
      if (v.width === 0 || v.height === 0 || (v.layer !== 'frame' && map === null)) continue;
      gl.viewport(v.x, height - v.y - v.height, v.width, v.height);
      gl.uniform1i(resources.uniforms.layer, LAYER_CODE[v.layer]);
      gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    }
  }

  destroy(): void {
    this.canvas.removeEventListener('webglcontextlost', this.onLost as EventListener);
    this.canvas.removeEventListener('webglcontextrestored', this.onRestored as EventListener);
    const { gl, resources } = this;
    if (resources !== null && !this.lost) {
      gl.deleteTexture(resources.frameTexture);
      gl.deleteTexture(resources.classTexture);
      gl.deleteTexture(resources.paletteTexture);
      gl.deleteProgram(resources.program);
    }
    this.resources = null;
  }

  private readonly onLost = (event: Event): void => {
    // preventDefault asks the browser to restore the context, which a kiosk left running for days may need.
    event.preventDefault();
    this.lost = true;
    this.resources = null;
  };

  private readonly onRestored = (): void => {
    this.lost = false;
    this.coloursChanged = true;
    this.frameSize = { width: 0, height: 0 };
    this.classFormat = { width: 0, height: 0, wide: false };
    this.uploadedIds = null;
    this.uploadedImage = null;
    this.resources = this.createResources();
  };

  private createResources(): GlResources {
    const { gl } = this;
    const program = gl.createProgram()!;
    gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, VERTEX_SHADER));
    gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, FRAGMENT_SHADER));
    gl.bindAttribLocation(program, 0, 'aCorner');
    gl.linkProgram(program);
    if (!gl.getProgramParameter(program, gl.LINK_STATUS)) throw new Error(`shader link failed: ${gl.getProgramInfoLog(program)}`);
    gl.useProgram(program);

    const corners = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, corners);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([0, 0, 1, 0, 0, 1, 1, 1]), gl.STATIC_DRAW);
    gl.enableVertexAttribArray(0);
    gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 0, 0);

    const texture = (unit: number, filter: number): WebGLTexture => {
      const t = gl.createTexture()!;
      gl.activeTexture(gl.TEXTURE0 + unit);
      gl.bindTexture(gl.TEXTURE_2D, t);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, filter);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, filter);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
      return t;
    };
    const frameTexture = texture(0, gl.LINEAR);
    const classTexture = texture(1, gl.NEAREST); // integer textures allow nearest only
    const paletteTexture = texture(2, gl.NEAREST);
    gl.uniform1i(gl.getUniformLocation(program, 'uFrame'), 0);
    gl.uniform1i(gl.getUniformLocation(program, 'uClasses'), 1);
    gl.uniform1i(gl.getUniformLocation(program, 'uPalette'), 2);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    return {
      program,
      frameTexture,
      classTexture,
      paletteTexture,
      uniforms: {
        mapSize: gl.getUniformLocation(program, 'uMapSize'),
        paletteSize: gl.getUniformLocation(program, 'uPaletteSize'),
        layer: gl.getUniformLocation(program, 'uLayer'),
        opacity: gl.getUniformLocation(program, 'uOpacity'),
      },
    };
  }

  private uploadFrame(resources: GlResources, frame: CompositeFrame): void {
    if (frame.image === this.uploadedImage) return;
    const { gl } = this;
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, resources.frameTexture);
    if (frame.width === this.frameSize.width && frame.height === this.frameSize.height) {
      gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, gl.RGBA, gl.UNSIGNED_BYTE, frame.image);
    } else {
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, gl.RGBA, gl.UNSIGNED_BYTE, frame.image);
      this.frameSize = { width: frame.width, height: frame.height };
    }
    this.uploadedImage = frame.image;
  }

  private uploadClasses(resources: GlResources, ids: ClassIds, width: number, height: number): void {
    if (ids === this.uploadedIds) return;
    const { gl } = this;
    const wide = ids instanceof Uint16Array;
    gl.activeTexture(gl.TEXTURE1);
    gl.bindTexture(gl.TEXTURE_2D, resources.classTexture);
    const format = this.classFormat;
    if (format.width !== width || format.height !== height || format.wide !== wide) {
      gl.texImage2D(gl.TEXTURE_2D, 0, wide ? gl.R16UI : gl.R8UI, width, height, 0, gl.RED_INTEGER, wide ? gl.UNSIGNED_SHORT : gl.UNSIGNED_BYTE, ids);
      this.classFormat = { width, height, wide };
    } else {
      gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, width, height, gl.RED_INTEGER, wide ? gl.UNSIGNED_SHORT : gl.UNSIGNED_BYTE, ids);
    }
    this.uploadedIds = ids;
  }

  private uploadPalette(resources: GlResources): void {
    if (!this.coloursChanged) return;
    const { gl } = this;
    const size = Math.max(1, this.colours.palette.length);
    const rows = Math.ceil(size / 256);
    const table = packedColourTable(this.colours, rows * 256);
    gl.activeTexture(gl.TEXTURE2);
    gl.bindTexture(gl.TEXTURE_2D, resources.paletteTexture);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, 256, rows, 0, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(table.buffer));
    this.paletteSize = this.colours.palette.length;
    this.coloursChanged = false;
  }
}

/**
 * `segstream doctor` and bpuAvailability(): what is reported about backends, GStreamer and cameras, checked
 * against fake device directories, a fake gst-inspect and fake board headers so every branch is exercised.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bpuAvailability } from '../../../../server/stages/infer/bpu-backend.ts';
import { DEFAULT_HB_LIB_DIRS, formatDoctor, GST_ELEMENTS, runDoctor } from '../../../../server/cli/doctor.ts';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'segstream-doctor-'));
}

/** A gst-inspect stand-in: knows GStreamer 1.99.1 and every element except rtspsrc and jpegdec. */
function fakeGstInspect(): string {
  const file = join(tempDir(), 'gst-inspect-1.0');
  writeFileSync(
    file,
    `#!/bin/sh
case "$1" in
  --version) echo "gst-inspect-1.0 version 1.99.1"; echo "GStreamer 1.99.1"; exit 0 ;;
  rtspsrc|jpegdec) echo "No such element or plugin '$1'" >&2; exit 255 ;;
  *) printf 'Factory Details:\\n  Rank none (0)\\n\\nPlugin Details:\\n  Name                     plug_%s\\n' "$1"; exit 0 ;;
esac
`,
  );
  chmodSync(file, 0o755);
  return file;
}

describe('runDoctor', () => {
  it('lists video device nodes in numeric order with their V4L2 names', async () => {
    const dev = tempDir();
    const sys = tempDir();
    for (const n of ['video10', 'video8', 'video4', 'video4-meta', 'null', 'media0']) writeFileSync(join(dev, n), '');
    for (const [node, name] of [['video4', 'ISP CSI0'], ['video8', 'VSE ch0 ']] as const) {
      mkdirSync(join(sys, node));
      writeFileSync(join(sys, node, 'name'), `${name}\n`);
    }
    const r = await runDoctor({ devDir: dev, sysVideoDir: sys, skipOnnx: true, gstInspect: fakeGstInspect() });
    expect(r.cameras).toEqual([
      { device: join(dev, 'video4'), name: 'ISP CSI0' },
      { device: join(dev, 'video8'), name: 'VSE ch0' },
      { device: join(dev, 'video10'), name: null },
    ]);
    expect(r.camerasNote).toBe(`3 video device node(s) in ${dev}`);
    const text = formatDoctor(r);
    expect(text).toContain(`  ${join(dev, 'video8')}`);
    expect(text).toMatch(/video10\s+\(no name in sysfs\)/);
  });

  it('says when there are no cameras', async () => {
    const r = await runDoctor({ devDir: tempDir(), skipOnnx: true, gstInspect: fakeGstInspect() });
    expect(r.cameras).toEqual([]);
    expect(formatDoctor(r)).toMatch(/cameras\s+none: no video\* device nodes in /);
  });

  it('reports the GStreamer version, each element with its plugin, and what is missing', async () => {
    const r = await runDoctor({ devDir: tempDir(), skipOnnx: true, gstInspect: fakeGstInspect() });
    expect(r.gstreamer.available).toBe(true);
    expect(r.gstreamer.version).toBe('1.99.1');
    expect(r.gstreamer.elements.map((e) => e.name)).toEqual([...GST_ELEMENTS]);
    expect(r.gstreamer.elements.find((e) => e.name === 'videotestsrc')).toEqual({ name: 'videotestsrc', found: true, plugin: 'plug_videotestsrc' });
    expect(r.gstreamer.elements.filter((e) => !e.found).map((e) => e.name)).toEqual(['rtspsrc', 'jpegdec']);
    expect(r.gstreamer.reason).toBe('missing elements: rtspsrc, jpegdec');
    expect(formatDoctor(r)).toMatch(/gstreamer\s+1\.99\.1: missing elements: rtspsrc, jpegdec\n\s+videotestsrc\s+ok \(plugin plug_videotestsrc\)/);
  });

  it('says when gst-inspect-1.0 is not installed', async () => {
    const r = await runDoctor({ devDir: tempDir(), skipOnnx: true, gstInspect: join(tempDir(), 'no-gst-inspect') });
    expect(r.gstreamer).toMatchObject({ available: false, version: null });
    expect(r.gstreamer.reason).toMatch(/no-gst-inspect not found \(install gstreamer1\.0-tools\)/);
    expect(r.gstreamer.elements.every((e) => !e.found)).toBe(true);
  });

  it('explains why the board BPU is not usable: headers, libdnn, architecture', async () => {
    const none = await runDoctor({ devDir: tempDir(), skipOnnx: true, gstInspect: fakeGstInspect(), hbIncludeDir: tempDir(), hbLibDirs: [tempDir()] });
    const bpu = none.backends.bpu;
    expect(bpu.boardHeader.found).toBe(false);
    expect(bpu.libdnn.found).toBeNull();
    expect(bpu.board).toMatch(/^no board BPU here: no .*dnn\/hb_dnn\.h; no libdnn\.so in /);
    if (!bpu.aarch64) expect(bpu.board).toContain('the RDK X5 is aarch64');

    const inc = tempDir();
    const lib = tempDir();
    mkdirSync(join(inc, 'dnn'));
    writeFileSync(join(inc, 'dnn', 'hb_dnn.h'), '');
    writeFileSync(join(lib, 'libdnn.so'), '');
    const found = await runDoctor({ devDir: tempDir(), skipOnnx: true, gstInspect: fakeGstInspect(), hbIncludeDir: inc, hbLibDirs: [lib] });
    expect(found.backends.bpu.boardHeader).toEqual({ path: join(inc, 'dnn', 'hb_dnn.h'), found: true });
    expect(found.backends.bpu.libdnn.found).toBe(join(lib, 'libdnn.so'));
    expect(found.backends.bpu.board).not.toContain('no libdnn.so');
  });

  it('reports the addon built here as the test double, and ONNX Runtime as loading or not with a reason', async () => {
    const r = await runDoctor({ devDir: tempDir(), gstInspect: fakeGstInspect() });
    // The double is never an available BPU: it has its own entry.
    expect(r.backends.bpu).toMatchObject({ available: false, mode: 'test-double' });
    expect(r.backends['bpu-double'].available).toBe(true);
    expect(r.backends.bpu.reason).toContain('test double');
    expect(typeof r.backends.onnx.available).toBe('boolean');
    expect(r.backends.onnx.reason).toMatch(r.backends.onnx.available ? /^onnxruntime-node .* loads/ : /^onnxruntime-node does not load: /);
    expect(formatDoctor(r)).toMatch(/\n {2}bpu\s+test double only: /);
    expect(formatDoctor(r)).toMatch(/\n {2}bpu-double\s+built \(synthetic outputs, not a BPU\): /);
    // --json prints the report as it is: it must survive a JSON round trip.
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });
});

describe('doctor --json', () => {
  it('keeps the board BPU and the test double apart, and never calls the double an available BPU', () => {
    const res = spawnSync(process.execPath, ['bin/segstream.js', 'doctor', '--json'], {
      cwd: join(import.meta.dirname, '..', '..', '..', '..'),
      encoding: 'utf8',
    });
    expect(res.status).toBe(0);
    const report = JSON.parse(res.stdout);
    expect(report.backends.bpu).toMatchObject({ available: false, mode: 'test-double' });
    expect(report.backends.bpu.reason).toMatch(/^no BPU: the addon is built against segstream's hb_dnn test double/);
    expect(report.backends['bpu-double']).toMatchObject({ available: true });
    expect(report.backends['bpu-double'].reason).toMatch(/linked against segstream's hb_dnn test double/);
  });
});

describe('libdnn.so search', () => {
  it('includes /usr/hobot/lib, and the doctor searches exactly where the build does', () => {
    const res = spawnSync(process.execPath, [join(import.meta.dirname, '..', '..', '..', '..', 'native', 'bpu', 'detect-hb-dnn.cjs'), 'searched'], { encoding: 'utf8' });
    const searched = JSON.parse(res.stdout);
    expect(searched).toContain('/usr/hobot/lib');
    expect(searched).toContain('/usr/lib');
    expect(DEFAULT_HB_LIB_DIRS).toEqual(searched);
  });
});

describe('bpuAvailability', () => {
  it('is the test double for the addon built here', () => {
    expect(bpuAvailability()).toMatchObject({ available: true, mode: 'test-double' });
  });

  it('is none, with the reason, when the addon is not built', () => {
    const script = `import('./server/stages/infer/bpu-backend.ts').then((m) => console.log(JSON.stringify(m.bpuAvailability())));`;
    const res = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
      cwd: join(import.meta.dirname, '..', '..', '..', '..'),
      env: { ...process.env, SEGSTREAM_BPU_ADDON: join(tempDir(), 'segstream_bpu.node') },
      encoding: 'utf8',
    });
    const a = JSON.parse(res.stdout);
    expect(a).toMatchObject({ available: false, mode: 'none' });
    expect(a.reason).toMatch(/^BPU addon not built: .*segstream_bpu\.node does not exist; run `npx node-gyp rebuild --directory native\/bpu`$/);
  });
});

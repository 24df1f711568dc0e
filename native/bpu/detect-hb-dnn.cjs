#!/usr/bin/env node
// Decides how native/bpu is built, for binding.gyp: against the board's hb_dnn (headers + libdnn found) or
// against segstream's test double. Prints one value per query:
//   node detect-hb-dnn.cjs mode      -> "board" | "double"
//   node detect-hb-dnn.cjs include   -> directory that holds dnn/hb_dnn.h
//   node detect-hb-dnn.cjs libdir    -> directory that holds libdnn.so ("" for the double: gyp builds it)
//   node detect-hb-dnn.cjs searched  -> the directories searched for libdnn.so by default (JSON)
// Environment: SEGSTREAM_HB_DNN_INCLUDE (directory containing dnn/hb_dnn.h), SEGSTREAM_HB_DNN_LIB (directory
// containing libdnn.so). When set they must be right: a wrong override fails the build instead of silently
// falling back to the double.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const DOUBLE_INCLUDE = path.resolve(__dirname, '..', 'testing', 'include');
const DEFAULT_INCLUDE = '/usr/include';
// /usr/lib is where the X5 hobot-dnn package installs libdnn.so; a third-party Yocto recipe for RDK OS puts it in
// /usr/hobot/lib; /usr/lib/hbbpu is the RDK X3 layout.
const DEFAULT_LIB_DIRS = ['/usr/lib/hbbpu', '/usr/lib', '/usr/lib/aarch64-linux-gnu', '/usr/hobot/lib'];

function fail(message) {
  process.stderr.write(`native/bpu: ${message}\n`);
  process.exit(1);
}

function hasHeader(dir) {
  return fs.existsSync(path.join(dir, 'dnn', 'hb_dnn.h'));
}

function libDirOf(dirs) {
  return dirs.find((d) => fs.existsSync(path.join(d, 'libdnn.so'))) ?? null;
}

function detect() {
  const includeOverride = process.env.SEGSTREAM_HB_DNN_INCLUDE;
  const libOverride = process.env.SEGSTREAM_HB_DNN_LIB;
  if (includeOverride !== undefined && includeOverride !== '') {
    const dir = path.resolve(includeOverride);
    if (!hasHeader(dir)) fail(`SEGSTREAM_HB_DNN_INCLUDE=${includeOverride}: ${path.join(dir, 'dnn', 'hb_dnn.h')} does not exist`);
    if (dir === DOUBLE_INCLUDE) fail('SEGSTREAM_HB_DNN_INCLUDE points at the test double; unset it to build against the double');
  }
  if (libOverride !== undefined && libOverride !== '') {
    const dir = path.resolve(libOverride);
    if (!fs.existsSync(path.join(dir, 'libdnn.so'))) fail(`SEGSTREAM_HB_DNN_LIB=${libOverride}: ${path.join(dir, 'libdnn.so')} does not exist`);
  }
  const include = includeOverride ? path.resolve(includeOverride) : DEFAULT_INCLUDE;
  const libdir = libOverride ? path.resolve(libOverride) : libDirOf(DEFAULT_LIB_DIRS);
  if (hasHeader(include) && libdir) return { mode: 'board', include, libdir };
  if (includeOverride || libOverride) {
    fail('SEGSTREAM_HB_DNN_INCLUDE and SEGSTREAM_HB_DNN_LIB must both resolve (headers and libdnn.so) for a board build');
  }
  if (hasHeader(include) && !libdir) {
    process.stderr.write(`native/bpu: ${include}/dnn/hb_dnn.h found but no libdnn.so in ${DEFAULT_LIB_DIRS.join(', ')}: building the test double\n`);
  }
  return { mode: 'double', include: DOUBLE_INCLUDE, libdir: '' };
}

const query = process.argv[2];
const result = query === 'searched' ? { searched: JSON.stringify(DEFAULT_LIB_DIRS) } : detect();
if (!(query in result)) fail(`unknown query '${query}' (mode, include, libdir, searched)`);
process.stdout.write(result[query]);

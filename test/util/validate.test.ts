// The one message builder and the one error family: exact texts, so every module's messages read alike.
import { describe as suite, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_USAGE, InputError, InvalidArgumentError, RuntimeError, SegstreamError, UsageError } from '../../server/util/errors.ts';
import { describe, expectedGot, integerRange, invalidParameterError, invalidValue, is, oneOfText } from '../../server/util/validate.ts';
import { ConfigError } from '../../server/app/config.ts';
import { KernelArgumentError } from '../../server/kernels/validate.ts';
import { ModelLoadError } from '../../server/model/errors.ts';
import { BpuBackendError } from '../../server/stages/infer/bpu/errors.ts';

suite('describe', () => {
  it('names every kind of value the same way everywhere', () => {
    expect(describe(undefined)).toBe('nothing');
    expect(describe(null)).toBe('null');
    expect(describe(641)).toBe('641');
    expect(describe(Number.NaN)).toBe('NaN');
    expect(describe(true)).toBe('true');
    expect(describe(3n)).toBe('3n');
    expect(describe('eighty')).toBe('"eighty"');
    expect(describe('x'.repeat(100))).toBe(`"${'x'.repeat(57)}..."`);
    expect(describe(new Uint8Array(383))).toBe('a Uint8Array of length 383');
    expect(describe(new Int32Array(72))).toBe('an Int32Array of length 72');
    expect(describe(Buffer.alloc(4))).toBe('a Buffer of length 4');
    expect(describe(new ArrayBuffer(8))).toBe('an ArrayBuffer of 8 bytes');
    expect(describe([])).toBe('an array of length 0');
    expect(describe([0.5, 0.5])).toBe('an array of length 2 [0.5,0.5]');
    expect(describe(Array.from({ length: 30 }, (_, i) => i))).toBe('an array of length 30');
    expect(describe({ a: 1 })).toBe('an object {"a":1}');
    expect(describe(new Map())).toBe('a Map');
    expect(describe(() => 1)).toBe('a function');
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(describe(circular)).toBe('an object');
  });
});

suite('message builder', () => {
  it('reads `<name>: expected <what>, got <value>`', () => {
    expect(expectedGot(integerRange(1, 100), 500)).toBe('expected an integer from 1 to 100, got 500');
    const e = invalidParameterError('DemoModelOptions.size', integerRange(32, 4096), 16);
    expect(e).toBeInstanceOf(InvalidArgumentError);
    expect(e.message).toBe('DemoModelOptions.size: expected an integer from 32 to 4096, got 16');
    const u = invalidValue(UsageError, '--overlay', oneOfText(['client', 'server']), 'on');
    expect(u).toBeInstanceOf(UsageError);
    expect(u.message).toBe('--overlay: expected one of client, server, got "on"');
  });

  it('has small predicates', () => {
    expect(is.object({})).toBe(true);
    expect(is.object([])).toBe(false);
    expect(is.object(null)).toBe(false);
    expect(is.number(Number.NaN)).toBe(false);
    expect(is.integer(2.5)).toBe(false);
    expect(is.inRange(5, 1, 5)).toBe(true);
    expect(is.inArray('b', ['a', 'b'] as const)).toBe(true);
    expect(is.typedArray(new Float32Array(1))).toBe(true);
    expect(is.typedArray(new DataView(new ArrayBuffer(1)))).toBe(false);
    expect(is.nonEmptyString('')).toBe(false);
  });
});

suite('error family', () => {
  it('every error a user can meet is a SegstreamError with a kind and an exit status', () => {
    const cases: [SegstreamError, string, number][] = [
      [new UsageError('x'), 'usage', EXIT_USAGE],
      [new InputError('x'), 'input', EXIT_FAILURE],
      [new InvalidArgumentError('x'), 'argument', EXIT_FAILURE],
      [new RuntimeError('x'), 'runtime', EXIT_FAILURE],
      [new ConfigError('a.yaml', 'server.port', 'expected ...'), 'input', EXIT_FAILURE],
      [new KernelArgumentError('x'), 'argument', EXIT_FAILURE],
      [new ModelLoadError('m.onnx', 'bad'), 'input', EXIT_FAILURE],
      [new BpuBackendError('x', 'invalid-argument', []), 'argument', EXIT_FAILURE],
      [new BpuBackendError('x', 'missing-file', []), 'input', EXIT_FAILURE],
      [new BpuBackendError('x', 'hb-call', []), 'runtime', EXIT_FAILURE],
    ];
    for (const [err, kind, exit] of cases) {
      expect(err, err.name).toBeInstanceOf(SegstreamError);
      expect(err.kind, err.name).toBe(kind);
      expect(err.exitCode, err.name).toBe(exit);
    }
    expect(new ConfigError('a.yaml', 'server.port', 'expected an integer').message).toBe('a.yaml: server.port: expected an integer');
    expect(new KernelArgumentError('x').name).toBe('KernelArgumentError');
  });
});

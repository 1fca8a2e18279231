/**
 * Which variant a bare model id means when nothing was preloaded (server/api/models.ts): q8 where the CPU has int8
 * dot products and q8's decoder stores int8 weights (its products on the U8S8 int8 GEMM); q4 where the CPU has them
 * but the q8 is an older conversion (uint8 decoder weights, no faster); q4, then fp32, before q8 where it has not (that
 * GEMM can saturate there).  The CPU's flags are read here from /proc/cpuinfo on their own, not through the server's
 * code.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cpuDefaultVariant, cpuVariantOrder, ModelRegistry } from '../../server/api/models.ts';
import { type ModelManifest, VARIANTS } from '../../src/core/asr/contract.ts';
import { ARTIFACTS, missing } from '../helpers/data.ts';

const models = resolve(ARTIFACTS, 'models');
const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : null;
const tinyManifest = (): ModelManifest =>
  JSON.parse(readFileSync(resolve(models, 'tiny/manifest.json'), 'utf8')) as ModelManifest;

test('the CPU order: every variant once; q8 first only with int8 dot products and a signed q8', () => {
  for (const [int8Dot, signed, first3] of [
    [true, true, ['q8', 'q4', 'fp32']],
    [true, false, ['q4', 'q8', 'fp32']],
    [false, true, ['q4', 'fp32', 'q8']],
    [false, false, ['q4', 'fp32', 'q8']],
  ] as const) {
    const order = cpuVariantOrder(int8Dot, signed);
    expect([...order].sort()).toEqual([...VARIANTS].sort());
    expect(order.slice(0, 3)).toEqual(first3);
  }
});

// Locally skipped with the reason when the test models are absent; under CI=true a failure (tests/helpers/data.ts).
const MODELS_MISSING = () =>
  missing(resolve(models, 'tiny/manifest.json'), 'the tiny test models (scripts/test-artifacts.sh)');

describe.skipIf(Boolean(MODELS_MISSING()))('a bare model id', () => {
  test('the converter marks q8 signed; a q8 converted before that (no mark, or uint8) is not preferred', () => {
    const m = tinyManifest();
    expect(m.variants.q8!.graphs.decoder_model_merged.matmulinteger_weights).toBe('int8');
    expect(m.variants.q8!.graphs.audio_encoder.matmulinteger_weights).toBe('int8');
    expect(m.variants.q4!.graphs.decoder_model_merged.matmulinteger_weights).toBeUndefined();
    expect(cpuDefaultVariant(m, true)).toBe('q8');
    expect(cpuDefaultVariant(m, false)).toBe('q4');
    for (const old of [undefined, 'uint8'] as const) {
      const older = tinyManifest();
      const graph = older.variants.q8!.graphs.decoder_model_merged;
      if (old) graph.matmulinteger_weights = old;
      else delete graph.matmulinteger_weights;
      expect(cpuDefaultVariant(older, true)).toBe('q4');
    }
  });

  test.skipIf(!cpuinfo)('is what this CPU calls for, through the registry; id@variant is that variant', async () => {
    const int8Dot = /^(flags|Features)\s*:.*\b(avx512_vnni|avx_vnni|asimddp)\b/m.test(cpuinfo!);
    const registry = new ModelRegistry(models, 1);
    await registry.scan();
    expect((await registry.resolve('tiny')).variant).toBe(int8Dot ? 'q8' : 'q4');
    expect((await registry.resolve('tiny@q4')).variant).toBe('q4');
    // A model without q8 falls to the next in the order: tiny-overflow has q4 and q4f16 only.
    expect((await registry.resolve('tiny-overflow')).variant).toBe('q4');
  });
});

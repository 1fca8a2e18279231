/**
 * Which variant a bare model id means when nothing was preloaded (server/api/models.ts `cpuVariantOrder`): q8 where
 * the CPU has int8 dot products (its encoder and decoder run on the U8S8 int8 GEMM), q4 where it has not (that GEMM
 * can saturate there).  The CPU's flags are read here from /proc/cpuinfo on their own, not through the server's code.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ModelRegistry } from '../../server/api/models.ts';
import { ARTIFACTS } from '../helpers/data.ts';

const models = resolve(ARTIFACTS, 'models');
const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : null;

describe.skipIf(!cpuinfo || !existsSync(resolve(models, 'tiny/manifest.json')))('a bare model id', () => {
  test('is q8 with int8 dot products, else q4; id@variant is that variant', async () => {
    const int8Dot = /^(flags|Features)\s*:.*\b(avx512_vnni|avx_vnni|asimddp)\b/m.test(cpuinfo!);
    const registry = new ModelRegistry(models, 1);
    await registry.scan();
    expect((await registry.resolve('tiny')).variant).toBe(int8Dot ? 'q8' : 'q4');
    expect((await registry.resolve('tiny@q4')).variant).toBe('q4');
    // A model without q8 falls to the next in the order: tiny-overflow has q4 and q4f16 only.
    expect((await registry.resolve('tiny-overflow')).variant).toBe('q4');
  });
});

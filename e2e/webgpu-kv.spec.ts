/**
 * The in-place KV cache on WebGPU (src/core/asr/kv-cache.ts) under the pattern onnxruntime's GroupQueryAttention is
 * suspected to get wrong when present aliases past: one GPU buffer per layer, reused by window after window, grown
 * between calls, each window writing from position 0 over the rows a longer window left behind.  In Chromium's real
 * WebGPU (SwiftShader here), with the app's own decoder code in a page of its own (helpers/kv-page.ts), every window's
 * tokens must equal the same window decoded with a new `present` per step: on WASM (the CPU path, an independent
 * implementation of the arithmetic) for fp32, on WebGPU for q4, whose CPU arithmetic differs.
 *
 * Windows here are decodes of a prompt of model embeddings and a fixed number of generated tokens (kv-page.ts), long
 * enough to span several prompt chunks and short enough to fit in one.
 */
import { expect, test, type Page } from '@playwright/test';
import type { KvRequest, KvResult, KvWindow } from './helpers/kv-page.ts';
import { startKvPage, type KvPageServer } from './helpers/kv-page-server.ts';

let server: KvPageServer;
test.beforeAll(async () => {
  server = await startKvPage();
});
test.afterAll(async () => {
  await server?.close();
});

const w = (prompt: number, cap: number, seed: number): KvWindow => ({ prompt, cap, seed });

/** One cache through all of these in order. */
const SEQUENCE: { name: string; windows: KvWindow[] }[] = [
  // (a) grown between calls: a short window, then a longer one that needs a bigger cache.
  { name: 'grown', windows: [w(20, 12, 1), w(150, 40, 2)] },
  // (b) long, short, long: the short one runs over the long one's rows; the last grows the cache again.
  { name: 'long-short-long', windows: [w(200, 24, 3), w(25, 10, 4), w(330, 48, 5)] },
  // (c) a live session's short segments, back to back (some below one prompt chunk, some just above).
  {
    name: 'live',
    windows: Array.from({ length: 6 }, (_, i) => w([18, 31, 40, 62, 75, 33][i]!, 8 + i * 3, 10 + i)),
  },
];
const WINDOWS = SEQUENCE.flatMap((s) => s.windows);
const names = SEQUENCE.flatMap((s) => s.windows.map((_, i) => `${s.name} #${i + 1}`));

async function decode(page: Page, r: KvRequest): Promise<KvResult> {
  return page.evaluate(
    (req) => (globalThis as unknown as { decodeWindows: (x: KvRequest) => Promise<KvResult> }).decodeWindows(req),
    r,
  );
}

for (const [model, variant] of [
  ['tiny', 'fp32'],
  ['tiny', 'q4'],
  ['tiny-wide', 'fp32'],
] as const) {
  test(`in-place KV cache on WebGPU = a new present per step (${model} ${variant}): grown, long-short-long, live`, async ({
    page,
  }) => {
    // 2 to 5 minutes each here (SwiftShader on 2 shared cores).
    test.setTimeout(600_000);
    await page.goto(server.url);
    await page.waitForFunction(() => (globalThis as unknown as { ready?: boolean }).ready === true);
    const base = { model, variant, windows: WINDOWS } as const;
    const inPlace = await decode(page, { ...base, backend: 'webgpu', cache: 'in-place' });
    // The reference: a new present per step.  For fp32 on WASM (the CPU path), which must give the same ids; q4's
    // MatMulNBits compute with int8 activations on the CPU (accuracy level 4) and in float on WebGPU: other arithmetic,
    // so other tokens on a random model, and its reference is WebGPU.  When fp32 differs from WASM, WebGPU per step
    // tells the cache from the arithmetic: in place differing from it too points at the cache.
    const perStepOn = async (backend: 'webgpu' | 'wasm') => {
      const r = await decode(page, { ...base, backend, cache: 'per-step' });
      expect(r.mode).toBe('per-step');
      return r;
    };
    const reference = await perStepOn(variant === 'fp32' ? 'wasm' : 'webgpu');
    const differs = names.some((_, i) => inPlace.windows[i]!.ids.join() !== reference.windows[i]!.ids.join());
    if (variant === 'fp32' && differs) {
      const gpu = await perStepOn('webgpu');
      const cacheDiffers = names.filter((_, i) => inPlace.windows[i]!.ids.join() !== gpu.windows[i]!.ids.join());
      test.info().annotations.push({
        type: 'in place vs per step, both on WebGPU',
        description: cacheDiffers.length ? `differ in ${cacheDiffers.join(', ')}` : 'equal: the arithmetic differs',
      });
    }

    // The path under test really ran: one cache, grown when a window needed more, never shrunk.
    expect(inPlace.mode).toBe('in-place');
    const capacity = inPlace.windows.map((x) => x.capacity);
    let most = 0;
    const expected = WINDOWS.map((x) => (most = Math.max(most, x.prompt + x.cap)));
    expect(capacity).toEqual(expected);
    expect(new Set(capacity).size).toBe(4); // grown three times between calls: 32, 190, 224, 378

    const where = variant === 'fp32' ? 'WASM' : 'WebGPU';
    for (const [i, name] of names.entries()) {
      const got = inPlace.windows[i]!.ids;
      expect(got, `${name}: in place (WebGPU) vs per step (${where})`).toEqual(reference.windows[i]!.ids);
      expect(got).toHaveLength(WINDOWS[i]!.cap);
    }
    // The windows decode to different tokens (a cache that leaked one window into the next could not hide).
    expect(new Set(inPlace.windows.map((x) => x.ids.join())).size).toBe(WINDOWS.length);
  });
}

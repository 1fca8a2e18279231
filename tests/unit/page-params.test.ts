/**
 * The page's URL parameters and the test knobs, read the way an attacker's link would be: well-formed values are
 * taken exactly, anything else is left out (and, for the page's own parameters, said), and no input throws.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { knobs, parseKnobs, workerKnobs } from '../../src/app/knobs.ts';
import { modelAddress, parsePageParams } from '../../src/app/settings/page-params.ts';

const PAGE = 'http://127.0.0.1:4173/';

describe('test knobs', () => {
  test('outside a test build (no define here) the page has none', () => {
    expect(knobs).toEqual({});
  });

  test('well-formed knobs are taken exactly', () => {
    expect(
      parseKnobs(
        '?maxNewTokens=48&libraryQuotaAfter=0&quotaAfterBytes=1000000&contextRate=48000&loseGpuAfterWindows=1' +
          '&warmUpTimeoutMs=5000&storage=memory&chunkKiB=64',
      ),
    ).toEqual({
      maxNewTokens: 48,
      libraryQuotaAfterBytes: 0,
      quotaAfterBytes: 1_000_000,
      contextRate: 48_000,
      loseGpuAfterWindows: 1,
      warmUpTimeoutMs: 5000,
      storage: 'memory',
      chunkBytes: 65_536,
    });
  });

  test('malformed or out-of-range values leave the knob unset', () => {
    for (const q of [
      'maxNewTokens=0',
      'maxNewTokens=1.5',
      'maxNewTokens=abc',
      'maxNewTokens=',
      'maxNewTokens=%20',
      'maxNewTokens=1e400',
      'libraryQuotaAfter=-1',
      'quotaAfterBytes=NaN',
      'contextRate=7999',
      'contextRate=192001',
      'loseGpuAfterWindows=0',
      'warmUpTimeoutMs=-5',
      'storage=disk',
      'chunkKiB=0',
      'chunkKiB=1048577',
    ])
      expect(parseKnobs(`?${q}`), q).toEqual({});
  });

  test('the worker gets every knob but the page-only contextRate', () => {
    expect(workerKnobs({ contextRate: 8000, maxNewTokens: 3 })).toEqual({ maxNewTokens: 3 });
  });
});

describe('page parameters', () => {
  test("a model on this origin keeps its address as written; another origin's is resolved and flagged", () => {
    expect(parsePageParams('?model=/models/tiny/', PAGE).model).toEqual({ url: '/models/tiny/', crossOrigin: false });
    expect(parsePageParams('?model=models/x/', PAGE).model).toEqual({ url: 'models/x/', crossOrigin: false });
    for (const [given, href] of [
      ['https://example.org/m/', 'https://example.org/m/'],
      ['//evil.example/m/', 'http://evil.example/m/'],
      ['https://127.0.0.1:4173/m/', 'https://127.0.0.1:4173/m/'],
      ['http://127.0.0.1:4174/m/', 'http://127.0.0.1:4174/m/'],
      ['http://localhost:4173/m/', 'http://localhost:4173/m/'],
    ] as const)
      expect(parsePageParams(`?model=${encodeURIComponent(given)}`, PAGE).model, given).toEqual({
        url: href,
        crossOrigin: true,
      });
  });

  test('what cannot be a model address is refused and said', () => {
    for (const given of [
      'javascript:alert(1)',
      'data:text/plain,x',
      'file:///etc/passwd',
      'http://[',
      'https://user:secret@example.org/m/',
      `https://example.org/${'a'.repeat(2100)}`,
      // This origin's API: a link must not make the page reach /v1/ at all.
      '/v1/',
      '/V1/audio/',
      `${new URL(PAGE).origin}/v1`,
    ]) {
      const p = parsePageParams(`?model=${encodeURIComponent(given)}`, PAGE);
      expect(p.model, given).toBeUndefined();
      expect(p.problems, given).toEqual([
        "The link's model address is not one the app can load (an http:// or https:// address of a model folder); it was ignored.",
      ]);
    }
  });

  test('engine, where and variant: known values only', () => {
    expect(parsePageParams('?engine=server&where=device&variant=fp32', PAGE)).toEqual({
      backend: 'server',
      where: 'device',
      variant: 'fp32',
      problems: [],
    });
    const bad = parsePageParams('?engine=cloud&where=__proto__&variant=constructor', PAGE);
    expect(bad.backend).toBeUndefined();
    expect(bad.where).toBeUndefined();
    expect(bad.variant).toBeUndefined();
    expect(bad.problems).toHaveLength(3);
  });

  test('no query string throws, and a model is either taken as an http(s) address or refused', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.string({ maxLength: 300 }), (raw, model) => {
        parsePageParams(raw, PAGE);
        const p = parsePageParams(`?model=${encodeURIComponent(model)}&engine=${encodeURIComponent(raw)}`, PAGE);
        if (!model) return p.model === undefined;
        if (p.model) {
          const u = modelAddress(model, PAGE)!;
          return (
            (u.protocol === 'http:' || u.protocol === 'https:') &&
            p.model.crossOrigin === (u.origin !== new URL(PAGE).origin)
          );
        }
        return p.problems.some((s) => s.includes('model address'));
      }),
      { numRuns: 2000 },
    );
  });
});

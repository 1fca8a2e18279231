/**
 * Transcript documents for tests and benchmarks, and writing them into the app's library with the raw IndexedDB API
 * (independent of the app's store code).
 */
import type { Page } from '@playwright/test';

export const LIBRARY_DB = 'glm-asr-library';
export const LIBRARY_STORE = 'records';

const WORDS =
  'the quick brown fox jumps over a lazy dog while seven tired engineers argue about budgets meetings coffee rain and the river'.split(
    ' ',
  );

/**
 * `n` transcript documents as the JSON Schema describes them (written literally here, not with the app's builders),
 * one every minute back from 2026-11-01, each with `segments` segments of `words` words; document `i`'s first
 * segment starts with the word `marker<i>`.
 */
export function sampleDocuments(n: number, segments = 3, words = 5): Record<string, unknown>[] {
  const docs = [];
  for (let i = 0; i < n; i++) {
    const at = new Date(Date.UTC(2026, 10, 1) - i * 60_000).toISOString();
    const segs = [];
    for (let k = 0; k < segments; k++) {
      const text = Array.from({ length: words }, (_, w) => WORDS[(i * 7 + k * 3 + w) % WORDS.length]);
      if (k === 0) text[0] = `marker${i}`;
      segs.push({ start: k * 5, end: k * 5 + 4.5, text: text.join(' '), final: true, engine: 'wasm' });
    }
    docs.push({
      schema: 'glm-asr-web/transcript@1',
      id: `seed-${String(i).padStart(4, '0')}`,
      kind: 'recording',
      title: segs[0]!.text.split(' ').slice(0, 8).join(' ') + '…',
      titleEdited: false,
      createdAt: at,
      updatedAt: at,
      durationSec: segments * 5,
      language: null,
      model: { id: 'glm-asr-tiny', revision: 'seed', variant: 'fp32' },
      status: 'done',
      error: null,
      source: null,
      audio: { sampleRate: 16000, samples: 0, chunks: 0, complete: true, error: null },
      segments: segs,
    });
  }
  return docs;
}

/**
 * Write documents straight into the library's store with the raw IndexedDB API (the app must have opened the store
 * once, which creates it).  The page code is a string: this module is shared with the benchmarks, which compile
 * without the DOM's types.
 */
export function seedLibrary(page: Page, docs: Record<string, unknown>[]): Promise<void> {
  return page.evaluate(`(async () => {
    const docs = ${JSON.stringify(docs)};
    const db = await new Promise((ok, fail) => {
      const r = indexedDB.open(${JSON.stringify(LIBRARY_DB)});
      r.onsuccess = () => ok(r.result);
      r.onerror = () => fail(r.error);
    });
    await new Promise((ok, fail) => {
      const tx = db.transaction(${JSON.stringify(LIBRARY_STORE)}, 'readwrite');
      for (const d of docs) tx.objectStore(${JSON.stringify(LIBRARY_STORE)}).put(d, ['doc', d.id]);
      tx.oncomplete = () => ok();
      tx.onerror = () => fail(tx.error);
    });
    db.close();
  })()`);
}

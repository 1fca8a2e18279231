/** The eval set: a TSV with a header naming at least `id`, `lang`, `file` and `text` (the shared speech layout). */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { EvalClip } from './types.ts';

export class ManifestError extends Error {
  override name = 'ManifestError';
}

const REQUIRED = ['id', 'lang', 'file', 'text'] as const;

export function parseManifest(tsv: string, baseDir: string, source = 'manifest'): EvalClip[] {
  const lines = tsv.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = (lines[0] ?? '').split('\t').map((h) => h.trim().toLowerCase());
  const missing = REQUIRED.filter((c) => !header.includes(c));
  if (missing.length)
    throw new ManifestError(
      `${source}: the header must name the columns ${REQUIRED.join(', ')} (tab-separated); missing ${missing.join(', ')}`,
    );
  const col = Object.fromEntries(REQUIRED.map((c) => [c, header.indexOf(c)])) as Record<
    (typeof REQUIRED)[number],
    number
  >;
  const clips: EvalClip[] = [];
  const seen = new Set<string>();
  lines.slice(1).forEach((raw, k) => {
    const line = k + 2;
    if (!raw.trim() || raw.startsWith('#')) return;
    const cells = raw.split('\t');
    const get = (c: (typeof REQUIRED)[number]) => (cells[col[c]] ?? '').trim();
    const id = get('id');
    const file = get('file');
    if (!id || !file || !get('lang') || !get('text'))
      throw new ManifestError(`${source}:${line}: id, lang, file and text must not be empty`);
    if (seen.has(id)) throw new ManifestError(`${source}:${line}: the id ${id} appears twice`);
    seen.add(id);
    clips.push({ id, lang: get('lang'), path: resolve(baseDir, file), text: get('text'), line });
  });
  if (!clips.length) throw new ManifestError(`${source}: no clips (only a header)`);
  return clips;
}

export function readManifest(path: string): EvalClip[] {
  let tsv: string;
  try {
    tsv = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ManifestError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return parseManifest(tsv, dirname(resolve(path)), path);
}

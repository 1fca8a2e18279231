/** A converted model directory on disk as a pipeline `ModelSource` (the runtime opens graph files by path). */
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ModelSource } from '../workers/asr/pipeline.ts';
import { safeJoin } from './static.ts';

export function directorySource(dir: string): ModelSource {
  const root = resolve(dir);
  const path = (p: string) => {
    const full = safeJoin(root, p);
    if (!full) throw new Error(`${p} is outside the model directory`);
    return full;
  };
  return {
    label: root,
    text: async (p) => {
      try {
        return await readFile(path(p), 'utf8');
      } catch (err) {
        throw new Error(`cannot read ${p} in ${root}: ${(err as NodeJS.ErrnoException).code ?? err}`, { cause: err });
      }
    },
    binary: async (p) => {
      const full = path(p);
      await stat(full); // a clear ENOENT before onnxruntime's own message
      return full;
    },
  };
}

/**
 * A converted model directory on disk as a pipeline `ModelSource` (the runtime opens graph files by path).  Its
 * label and error messages name the model directory by its name, not by where it is on this machine: they reach
 * API clients (a failed load is a 500 `model_load_failed`).
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { ModelSource } from '../src/core/asr/pipeline.ts';
import { safeJoin } from './static.ts';

export function directorySource(dir: string): ModelSource {
  const root = resolve(dir);
  const name = basename(root);
  const path = (p: string) => {
    const full = safeJoin(root, p);
    if (!full) throw new Error(`${p} is outside the model directory ${name}`);
    return full;
  };
  return {
    label: name,
    text: async (p) => {
      try {
        return await readFile(path(p), 'utf8');
      } catch (err) {
        throw new Error(
          `cannot read ${p} in the model directory ${name}: ${(err as NodeJS.ErrnoException).code ?? err}`,
          {
            cause: err,
          },
        );
      }
    },
    binary: async (p) => {
      const full = path(p);
      try {
        await stat(full); // a clear message before onnxruntime's own (which quotes the full path)
      } catch (err) {
        throw new Error(
          `cannot read ${p} in the model directory ${name}: ${(err as NodeJS.ErrnoException).code ?? err}`,
          {
            cause: err,
          },
        );
      }
      return full;
    },
  };
}

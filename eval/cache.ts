/**
 * Results per clip, appended as JSON lines to one file per run key (model hash, variant, engine, options), so a
 * stopped eval resumes where it was and a finished one reprints its table at once.  A torn last line (a kill
 * mid-write) is ignored; a clip whose audio changed is transcribed again.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ClipResult } from './types.ts';

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export class ResultCache {
  readonly path: string;
  private readonly results = new Map<string, ClipResult>();

  constructor(dir: string, key: Record<string, unknown>) {
    mkdirSync(dir, { recursive: true });
    this.path = resolve(dir, `${sha256(JSON.stringify(key)).slice(0, 16)}.jsonl`);
    if (!existsSync(this.path)) {
      appendFileSync(this.path, JSON.stringify({ key }) + '\n');
      return;
    }
    for (const line of readFileSync(this.path, 'utf8').split('\n').slice(1)) {
      if (!line.trim()) continue;
      try {
        const r = JSON.parse(line) as ClipResult;
        if (typeof r.id === 'string') this.results.set(r.id, r);
      } catch {
        // a line cut by a kill mid-write: that clip runs again
      }
    }
  }

  /** The cached result for this clip, if its audio is unchanged and it did not fail (failures are retried). */
  get(id: string, audioSha256: string): ClipResult | undefined {
    const r = this.results.get(id);
    return r && r.audioSha256 === audioSha256 && r.output ? r : undefined;
  }

  put(result: ClipResult): void {
    this.results.set(result.id, result);
    appendFileSync(this.path, JSON.stringify(result) + '\n');
  }
}

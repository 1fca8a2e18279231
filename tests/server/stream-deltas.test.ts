/**
 * The server's stream deltas (server/api/transcriptions.ts DeltaTracker): concatenated, they are the windows' texts
 * joined with a space (none next to CJK), and a window whose final text is not an extension of what was streamed
 * for it (a repetition cut) holds back only that window: the next window's deltas still flow.
 */
import { expect, test } from 'vitest';
import { DeltaTracker } from '../../server/api/transcriptions.ts';

function stream(windows: { partials: string[]; final: string }[]): string[] {
  const t = new DeltaTracker();
  const out: string[] = [];
  for (const w of windows) {
    for (const p of w.partials) out.push(t.next(p));
    out.push(t.endWindow(w.final));
  }
  return out.filter(Boolean);
}

test('deltas of consistent windows add up to the joined text', () => {
  const d = stream([
    { partials: ['Hel', 'Hello'], final: 'Hello' },
    { partials: ['wor', 'world.'], final: 'world.' },
    { partials: ['你好'], final: '你好' },
  ]);
  expect(d).toEqual(['Hel', 'lo', ' wor', 'ld.', '你好']);
  expect(d.join('')).toBe('Hello world.你好');
});

test('a window that diverges holds back only itself', () => {
  const d = stream([
    { partials: ['no no no no'], final: 'no no' },
    { partials: ['next'], final: 'next one' },
  ]);
  expect(d).toEqual(['no no no no', ' next', ' one']);
});

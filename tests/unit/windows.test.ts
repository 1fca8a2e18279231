/**
 * Window planning for long audio: contiguous ≤ 30 s windows cut in the last 2 s before each 30 s mark, and the same
 * cut points as the converter's reference (tools/glmasr_onnx/windows.py, run here on the same samples).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { expect, test } from 'vitest';
import { planWindows, SEARCH_SAMPLES } from '../../src/core/asr/windows.ts';
import { encodeWavFloat32 } from '../../src/core/dsp/wav.ts';
import { ROOT, SPEECH_MISSING, speech } from '../helpers/data.ts';

test.skipIf(SPEECH_MISSING())('10 minutes of speech: the TypeScript and Python plans agree exactly', () => {
  const pcm = speech(600).samples;
  const windows = planWindows(pcm);
  expect(windows.length).toBeGreaterThanOrEqual(20);
  let end = 0;
  for (const w of windows) {
    expect(w.start).toBe(end);
    expect(w.end - w.start).toBeLessThanOrEqual(480_000);
    if (w.end !== pcm.length) expect(w.end - w.start).toBeGreaterThanOrEqual(480_000 - SEARCH_SAMPLES);
    end = w.end;
  }
  expect(end).toBe(pcm.length);

  const dir = mkdtempSync(resolve(tmpdir(), 'windows-'));
  const wav = resolve(dir, 'long.wav');
  writeFileSync(wav, encodeWavFloat32(pcm, 16000));
  const py = spawnSync(
    resolve(ROOT, 'tools/py'),
    [
      '-c',
      'import json,sys,soundfile as sf; from glmasr_onnx.windows import plan_windows; ' +
        'x,_=sf.read(sys.argv[1],dtype="float32"); print(json.dumps(plan_windows(x)))',
      wav,
    ],
    { encoding: 'utf8' },
  );
  expect(py.status, py.stderr).toBe(0);
  const reference = (JSON.parse(py.stdout) as [number, number][]).map(([start, end]) => ({ start, end }));
  expect(windows).toEqual(reference);
});

test('short audio is one window; empty audio none', () => {
  expect(planWindows(new Float32Array(480_000))).toEqual([{ start: 0, end: 480_000 }]);
  expect(planWindows(new Float32Array(0))).toEqual([]);
});

test('a silent gap inside the search range becomes the cut', () => {
  const x = new Float32Array(700_000).map((_, i) => Math.sin(i * 0.3) * 0.5);
  x.fill(0, 460_000, 462_000); // 2 k samples of silence, 20 k samples before the 30 s mark
  const [first] = planWindows(x);
  expect(first!.end).toBeGreaterThanOrEqual(460_160);
  expect(first!.end).toBeLessThanOrEqual(461_840);
});

/**
 * Batch transcription in Node with the app's own pipeline (src/core/asr/pipeline.ts) on onnxruntime-node.
 *
 *   npm run transcribe -- --model <dir> [--variant q4f16] [--json | --format txt|srt|vtt|json [--out-dir DIR]]
 *                         [--threads N] [--max-new-tokens N] [--no-repetition-guard] <audio files...>
 *
 * Prints the text per file; with --json one JSON object per line and file: {file, text, windows: [{start, end,
 * token_ids, text, stop}], timings}; with --format the transcript as the app's *Save as* and the server's
 * response_format give it (src/core/format/export.ts: the same bytes), or `json`: the transcript document as the
 * app's library keeps it (src/core/format/document.ts; no audio is kept), to stdout for one file or as
 * `<name>.<ext>` files in --out-dir.  A bad file is reported (stderr, or {file, error} with --json) and the batch
 * goes on; the exit code is 1 when any file failed.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { isVariant, type ModelManifest, VARIANTS } from '../src/core/asr/contract.ts';
import { createNodeRuntime } from '../server/ort/node.ts';
import { GlmAsrPipeline } from '../src/core/asr/pipeline.ts';
import { AudioFileError, decodeAudioFile, peak } from '../server/audio-file.ts';
import { directorySource } from '../server/model-source.ts';
import { EXPORT_FORMATS, formatTranscript, isExportFormat, segmentsOf } from '../src/core/format/export.ts';
import { formatDocument, newDocument, windowSegments, withSegments } from '../src/core/format/document.ts';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';

const HELP = `usage: npm run transcribe -- --model <dir> [--variant q4f16] [--json] <audio files...>

  --model <dir>            converted model directory (npm run model:convert)
  --variant <name>         one of ${VARIANTS.join(', ')} (default q4f16, or the only one the model has)
  --json                   one JSON object per file: text, token_ids per window, timings
  --format txt|srt|vtt     the transcript as the app saves it and the server answers it (byte for byte):
                           to stdout for one file, or with --out-dir one <name>.<ext> per file
  --format json            the transcript document as the app's library keeps it (Save JSON)
  --out-dir <dir>          where --format writes its files
  --threads <n>            onnxruntime intra-op threads (default: one per core)
  --max-new-tokens <n>     cap per 30 s window (default: from generation_config and the window's length)
  --no-repetition-guard    do not stop a window that loops on an n-gram
`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      variant: { type: 'string' },
      json: { type: 'boolean', default: false },
      format: { type: 'string' },
      'out-dir': { type: 'string' },
      threads: { type: 'string', default: '0' },
      'max-new-tokens': { type: 'string' },
      'no-repetition-guard': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (!values.model || positionals.length === 0) {
    process.stderr.write(`error: --model and at least one audio file are required\n\n${HELP}`);
    return 2;
  }
  const format = values.format;
  if (format !== undefined && format !== 'json' && !isExportFormat(format)) {
    process.stderr.write(`error: --format must be txt, srt, vtt or json, not "${format}"\n`);
    return 2;
  }
  if (format && values.json) {
    process.stderr.write('error: --format and --json are two different outputs; choose one\n');
    return 2;
  }
  if (format && positionals.length > 1 && !values['out-dir']) {
    process.stderr.write('error: --format with several files needs --out-dir (one file per transcript)\n');
    return 2;
  }
  if (values['out-dir'] && !format) {
    process.stderr.write('error: --out-dir goes with --format\n');
    return 2;
  }
  const source = directorySource(values.model);
  let variant = values.variant;
  let manifest: ModelManifest | undefined;
  if (!variant || format === 'json') {
    manifest = JSON.parse(await source.text('manifest.json')) as ModelManifest;
  }
  if (!variant) {
    const have = Object.keys(manifest!.variants);
    variant = have.includes('q4f16') ? 'q4f16' : have.length === 1 ? have[0] : 'q4f16';
  }
  if (!isVariant(variant)) {
    process.stderr.write(`error: unknown variant ${variant}; choose from ${VARIANTS.join(', ')}\n`);
    return 2;
  }
  const runtime = createNodeRuntime(Number(values.threads));
  const tLoad = performance.now();
  const pipeline = await GlmAsrPipeline.load(runtime, source, variant, { manifest });
  const loadMs = performance.now() - tLoad;
  if (!values.json && !format)
    process.stderr.write(`model ${values.model} (${variant}, onnxruntime-node) loaded in ${loadMs.toFixed(0)} ms\n`);
  const maxNew = values['max-new-tokens'] ? Number(values['max-new-tokens']) : undefined;
  let failed = 0;
  for (const file of positionals) {
    try {
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await readFile(file));
      } catch (err) {
        throw new AudioFileError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? err})`);
      }
      const pcm = await decodeAudioFile(bytes, file);
      const silent = peak(pcm) === 0;
      const result = await pipeline.transcribe(pcm, {
        ...(maxNew ? { maxNewTokens: maxNew } : {}),
        repetitionGuard: !values['no-repetition-guard'],
      });
      if (values.json) {
        const windows = result.windows.map((w) => ({
          start: w.startSec,
          end: w.endSec,
          token_ids: w.tokenIds,
          text: w.text,
          stop: w.stopReason,
          audio_tokens: w.audioTokens,
          timings_ms: { encoder: w.encoderMs, prefill: w.prefillMs, decode: w.decodeMs },
        }));
        process.stdout.write(
          JSON.stringify({
            file,
            text: result.text,
            audio_seconds: result.audioSec,
            silent,
            windows,
            timings_ms: { load: loadMs, total: result.totalMs },
          }) + '\n',
        );
      } else if (format) {
        let body: string;
        if (format === 'json') {
          const doc = newDocument({
            id: `file-${Date.now()}-${basename(file)}`,
            kind: 'file',
            createdAt: new Date(),
            model: { id: manifest!.model_id, revision: manifest!.revision, variant },
            status: 'done',
            fileName: basename(file),
          });
          body = formatDocument({ ...withSegments(doc, windowSegments(result.windows)), durationSec: result.audioSec });
        } else body = formatTranscript(segmentsOf(result.windows), format);
        if (values['out-dir']) {
          const extension = format === 'json' ? 'json' : EXPORT_FORMATS[format].extension;
          const out = resolve(values['out-dir'], `${basename(file, extname(file))}.${extension}`);
          await mkdir(values['out-dir'], { recursive: true });
          await writeFile(out, body);
          process.stderr.write(`${file} -> ${out}\n`);
        } else process.stdout.write(body);
      } else {
        process.stdout.write(`${file}\t${result.text}${silent ? '\t(the file is silent)' : ''}\n`);
      }
    } catch (err) {
      failed++;
      const message = err instanceof Error ? err.message : String(err);
      if (values.json) process.stdout.write(JSON.stringify({ file, error: message }) + '\n');
      else process.stderr.write(`error: ${message}\n`);
    }
  }
  await pipeline.release();
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);

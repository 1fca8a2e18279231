// What the wasm-heap probes share: a graph's session on onnxruntime-web's WASM build (with or without prepacking) and
// the feeds of one encoder window and of a decoder run.  `ort` is passed in: heap.mjs must catch the build's memory
// before onnxruntime-web is imported.
import { readFileSync } from 'node:fs';

/** `<dir>/onnx/<name>.onnx` and its external data, created on WASM; `noprepack` sets session.disable_prepacking. */
export function makeSession(ort, dir, name, noprepack = false) {
  return ort.InferenceSession.create(readFileSync(`${dir}/onnx/${name}.onnx`), {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
    ...(noprepack ? { extra: { session: { disable_prepacking: '1' } } } : {}),
    externalData: [{ path: `${name}.onnx_data`, data: readFileSync(`${dir}/onnx/${name}.onnx_data`) }],
  });
}

/** One 30 s window of a fixed signal, its first `validFrames` frames valid. */
export function encoderFeeds(ort, validFrames = 3000) {
  const x = new Float32Array(128 * 3000).map((_, i) => Math.sin(i * 0.013) * 0.7);
  return {
    input_features: new ort.Tensor('float32', x, [1, 128, 3000]),
    input_features_mask: new ort.Tensor('int64', new BigInt64Array(3000).map((_, i) => (i < validFrames ? 1n : 0n)), [1, 3000]),
  };
}

/** `n` new tokens after a past of `past` (the past filled with a constant), shapes from `<dir>/config.json`. */
export function decoderFeeds(ort, session, dir, n, past) {
  const config = JSON.parse(readFileSync(`${dir}/config.json`, 'utf8'));
  const text = config.text_config ?? config;
  const headDim = text.head_dim ?? text.hidden_size / text.num_attention_heads;
  const kv = session.inputMetadata.find((m) => m.name.startsWith('past'))?.type ?? 'float32';
  const feeds = {};
  for (const m of session.inputMetadata) {
    const isPast = m.name.startsWith('past');
    const T = isPast ? kv : m.type;
    const dims = isPast
      ? [1, text.num_key_value_heads, past, headDim]
      : m.name === 'attention_mask'
        ? [1, past + n]
        : m.name === 'inputs_embeds'
          ? [1, n, text.hidden_size]
          : m.name === 'position_ids'
            ? [1, n]
            : m.shape.map(() => 1);
    const size = dims.reduce((a, b) => a * b, 1);
    const data =
      T === 'float16'
        ? new Uint16Array(size).fill(0x2e66)
        : T === 'float32'
          ? new Float32Array(size).map((_, i) => (isPast ? 0.1 : Math.sin(i * 0.37) * 0.8))
          : new BigInt64Array(size).map((_, i) => (m.name === 'position_ids' ? BigInt(past + i) : 1n));
    feeds[m.name] = new ort.Tensor(T, data, m.shape.length === 0 ? [] : dims);
  }
  return feeds;
}

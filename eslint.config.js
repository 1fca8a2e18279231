// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Modules only the onnxruntime owners may import (src/core/ort/runtime.ts, workers/ort/, server/ort/). */
const ORT = ['onnxruntime-web', 'onnxruntime-web/*', 'onnxruntime-node', 'onnxruntime-common'];
const ORT_OWNERS = 'Only src/core/ort/runtime.ts (types), workers/ort/ and server/ort/ import onnxruntime.';
/** Import patterns for the given top layers (app, storage, workers, server). */
const UPPER = (...layers) => layers.map((l) => `**/${l}/**`);

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'build/**',
      'node_modules/**',
      'tools/**',
      'test-results/**',
      'playwright-report/**',
      '.scratch/**',
      'models/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Node scripts (setup, test runner, configs).
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { patterns: [{ group: ORT, message: ORT_OWNERS }] }],
    },
  },
  // The layer rules (docs/architecture.md).  Each layer lists what it must not import.
  {
    // core: runs everywhere (page, worker, Node) -- nothing platform-specific, nothing above it.
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/ort/runtime.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ORT, message: ORT_OWNERS },
            {
              group: ['node:*', ...UPPER('app', 'storage', 'workers', 'server')],
              message: 'src/core/ runs everywhere: it imports only src/core/ and npm libraries.',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'window', 'document', 'self', 'process', 'Buffer', 'importScripts'],
    },
  },
  {
    // storage: IndexedDB, shared by the page and the worker.
    files: ['src/storage/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ORT, message: ORT_OWNERS },
            {
              group: UPPER('app', 'workers', 'server'),
              message: 'src/storage/ imports only src/core/ and idb-keyval.',
            },
          ],
        },
      ],
    },
  },
  {
    // app: the page.  It talks to the worker through the protocol; from the core it takes types, the protocol's guards,
    // the constants, the formats, the WAV writer (playback) and the down-mix; never the pipeline, the planner or onnxruntime.
    files: ['src/app/**/*.ts', 'src/main.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ORT, message: 'The page never touches onnxruntime; it asks the worker.' },
            {
              group: [...UPPER('server'), '**/workers/**', '!**/workers/*?worker&url'],
              message: 'The page reaches the worker only by its URL and the protocol.',
            },
            {
              group: [
                '**/core/asr/**',
                '**/core/live/**',
                '**/core/remote/**',
                '**/core/ort/**',
                '**/core/planner.ts',
                '**/core/device.ts',
                '**/core/memory-model.ts',
                '**/core/net/**',
                '**/core/async.ts',
                '**/core/dsp/*',
                '!**/core/dsp/wav.ts',
                '!**/core/dsp/mono.ts',
              ],
              allowTypeImports: true,
              message:
                'The page imports only types from the model side of the core (values: protocol, constants, format/, dsp/wav.ts, dsp/mono.ts).',
            },
          ],
        },
      ],
    },
  },
  {
    // worker: never the page or the server.
    files: ['workers/**/*.ts'],
    ignores: ['workers/capture.worklet.ts', 'workers/ort/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ORT, message: ORT_OWNERS },
            { group: UPPER('app', 'server'), message: 'The worker must not depend on the page or the server.' },
          ],
        },
      ],
    },
  },
  {
    // worklet: the audio thread -- the protocol, the constants, the resampler and the down-mix, nothing else.
    files: ['workers/capture.worklet.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!\\.\\./src/core/(protocol|constants|dsp/resampler|dsp/mono)\\.ts$)',
              message: 'The worklet imports only src/core/protocol.ts, constants.ts, dsp/resampler.ts and dsp/mono.ts.',
            },
          ],
        },
      ],
    },
  },
  {
    // server: Node; never the page, the worker or the browser stores.
    files: ['server/**/*.ts'],
    ignores: ['server/ort/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ORT, message: ORT_OWNERS },
            {
              group: UPPER('app', 'storage', 'workers'),
              message: 'The server uses src/core/ and its own modules only.',
            },
          ],
        },
      ],
    },
  },
  {
    // The onnxruntime owners: the session layer (types only), the web runtime, the Node runtime.
    files: ['src/core/ort/runtime.ts', 'workers/ort/*.ts', 'server/ort/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // A test of how the session layer drives onnxruntime-web's WASM build (the browsers' CPU path), run in Node: it
    // makes the runtime over the real module itself (workers/ort/web.ts needs a worker's asset URLs).
    files: ['tests/unit/prepacking.test.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
);

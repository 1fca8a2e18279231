// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Modules only the onnxruntime owner may import (one module owns onnxruntime). */
const ORT = ['onnxruntime-web', 'onnxruntime-web/*', 'onnxruntime-node', 'onnxruntime-common'];

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
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ORT, message: 'Only workers/asr/ort/ (the onnxruntime owner) imports onnxruntime.' }] },
      ],
    },
  },
  {
    // Main thread: from workers/ only types, the protocol guards/constants, the exports' formatters, the library's
    // store (the page reads and edits documents; the worker writes them), the WAV writer (playback), and worker/worklet
    // URLs.
    files: ['src/**/*.ts'],
    ignores: ['src/sw.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ORT, message: 'The UI never touches onnxruntime; ask the worker.' },
            {
              group: [
                '**/workers/**',
                '!**/workers/protocol.ts',
                '!**/workers/constants.ts',
                // (gitignore rules: the directory is re-included, its files excluded again, then the one file.)
                '!**/workers/format',
                '**/workers/format/*',
                '!**/workers/format/export.ts',
                '!**/workers/format/document.ts',
                '!**/workers/library',
                '**/workers/library/*',
                '!**/workers/library/library-store.ts',
                '!**/workers/dsp',
                '**/workers/dsp/*',
                '!**/workers/dsp/wav.ts',
                '!**/*?worker&url',
              ],
              allowTypeImports: true,
              message:
                'The main thread may import only types from workers/ (plus protocol guards, constants, format/export.ts, format/document.ts, library/library-store.ts and dsp/wav.ts).',
            },
          ],
        },
      ],
    },
  },
  {
    // Workers never import the UI.
    files: ['workers/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/src/**'], message: 'Workers must not depend on main-thread code.' },
            { group: ORT, message: 'Only workers/asr/ort/ (the onnxruntime owner) imports onnxruntime.' },
          ],
        },
      ],
    },
  },
  {
    // The formatters are bundled into the UI too: they stay within workers/format/.
    files: ['workers/format/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^(?!\\./)', message: 'workers/format/ imports only its own modules (the UI bundles it).' },
          ],
        },
      ],
    },
  },
  {
    // The worklet runs on the audio thread: only protocol, constants and the resampler.
    files: ['workers/capture.worklet.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!\\./(protocol|constants|dsp/resampler)\\.ts$)',
              message: 'The worklet may import only ./protocol.ts, ./constants.ts and ./dsp/resampler.ts.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['workers/asr/ort/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
);

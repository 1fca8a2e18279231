import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/unit/**/*.test.ts', 'tests/server/**/*.test.ts'],
    environment: 'node',
    // Vitest's default leaves a core free: one test file at a time on a 2-core machine.  Many of ours wait on a child
    // process (the CLI, a server, Python): two at a time took 144-150 s for what took 230 s alone (2026-12-07).
    maxWorkers: Math.max(2, availableParallelism()),
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});

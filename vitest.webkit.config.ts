import { defineConfig } from 'vitest/config';

/** The WebKit suite (`webkit/`): Safari's engine through WebKitGTK's WebDriver, one browser at a time. */
export default defineConfig({
  test: {
    include: ['webkit/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['webkit/setup.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});

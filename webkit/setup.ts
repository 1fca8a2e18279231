/**
 * vitest globalSetup for the WebKit suite: Xvfb and WebKitWebDriver (webkit/helpers/rig.ts) and the app behind its
 * error collector (webkit/helpers/app.ts), for every test file; all stopped at the end.
 */
import type { TestProject } from 'vitest/node';
import { serveApp } from './helpers/app.ts';
import { startRig } from './helpers/rig.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    webdriverPort: number;
    appUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const rig = await startRig();
  const app = await serveApp().catch(async (err: unknown) => {
    await rig.stop();
    throw err;
  });
  project.provide('webdriverPort', rig.webdriverPort);
  project.provide('appUrl', app.url);
  return async () => {
    await app.close();
    await rig.stop();
  };
}

#!/usr/bin/env node
// `npm start`: set up what is missing, build the app, and serve it with the fallback server's defaults.
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
run('node', [resolve(root, 'scripts/setup.mjs'), 'start']);
run('npx', ['vite', 'build', '--logLevel', 'warn']);
run('npx', ['tsx', 'server/server.ts', ...process.argv.slice(2)]);

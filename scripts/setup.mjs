#!/usr/bin/env node
// Make a fresh machine ready: Debian packages, node_modules, the Python venv, and (for tests) the test artifacts.
// Uses only Node built-ins, so it runs before `npm ci`.  Each step is skipped when already done.
//   node scripts/setup.mjs test    everything `npm test` needs
//   node scripts/setup.mjs start   everything `npm start` needs
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const mode = process.argv[2] ?? 'test';

function log(message) {
  console.log(`[setup] ${message}`);
}

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...options });
  if (r.status !== 0) {
    console.error(`[setup] failed: ${cmd} ${args.join(' ')}`);
    process.exit(r.status ?? 1);
  }
}

function have(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

// 1. Debian packages (browsers for the e2e and WebKit suites, sox/ffmpeg/espeak-ng for audio fixtures): a command
//    on the PATH, or a file for a package that has none (GStreamer's ALSA plugin: WebKit's audio needs a sink).
const apt = {
  chromium: 'chromium',
  sox: 'sox',
  ffmpeg: 'ffmpeg',
  'espeak-ng': 'espeak-ng',
  WebKitWebDriver: 'webkit2gtk-driver',
  Xvfb: 'xvfb',
  '/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstalsa.so': 'gstreamer1.0-alsa',
};
const needed =
  mode === 'test'
    ? Object.entries(apt)
        .filter(([what]) => (what.startsWith('/') ? !existsSync(what) : !have(what)))
        .map(([, pkg]) => pkg)
    : [];
if (needed.length) {
  const isRoot = process.getuid?.() === 0;
  const sudo = isRoot ? [] : have('sudo') ? ['sudo', '-n'] : null;
  if (!sudo) {
    console.error(
      `[setup] missing Debian packages: ${needed.join(' ')}\n  run: sudo apt-get install -y ${needed.join(' ')}`,
    );
    process.exit(1);
  }
  log(`installing Debian packages: ${needed.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run(sudo[0] ?? 'apt-get', [...sudo.slice(1), ...(sudo.length ? ['apt-get'] : []), 'update', '-qq'], { env });
  run(
    sudo[0] ?? 'apt-get',
    [...sudo.slice(1), ...(sudo.length ? ['apt-get'] : []), 'install', '-y', '-qq', ...needed],
    {
      env,
    },
  );
}

// 2. node_modules, reinstalled when package-lock.json changed since the last install.
const marker = resolve(root, 'node_modules/.package-lock.json');
const lock = resolve(root, 'package-lock.json');
if (!existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs) {
  log('npm ci');
  // onnxruntime-node's install script would fetch CUDA binaries from a host we cannot reach; the CPU ones ship inside.
  run('npm', ['ci', '--no-audit', '--no-fund'], { env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } });
}

// 3. Python venv for tools/ (converter, tiny models, goldens).
const venv = execFileSync('bash', [resolve(root, 'tools/setup-venv.sh')], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
}).trim();
log(`python venv ${venv}`);

// 4. Test artifacts (tiny models converted, goldens from the official implementation).
run('bash', [resolve(root, 'scripts/test-artifacts.sh')]);

#!/usr/bin/env node
// `npm test`: set up whatever is missing, then every test: converter parity (pytest, beside the next steps), the
// type-check, lint and format check, the production build (dist/) and the test build (build/dist-test, the only one
// with the test knobs), the unit and server tests, the browser end-to-end suite (Chromium, on the test build; one spec
// on the production build), and the WebKit suite (Safari's engine through WebKitGTK's WebDriver, on the test build).
// Every suite runs even if an earlier one failed; the last line is the total as "N passed, N failed".
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// Not under test-results/: Playwright empties that directory when it starts.
const reports = resolve(root, 'build/test-reports');
rmSync(reports, { recursive: true, force: true });
mkdirSync(reports, { recursive: true });

function step(name, cmd, args, junit) {
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`);
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, env: { ...process.env, FORCE_COLOR: '0' } });
  const ok = r.status === 0;
  console.log(`=== ${name}: ${ok ? 'ok' : `FAILED (exit ${r.status})`} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { name, ok, junit };
}

/**
 * `step` in the background, beside the steps that follow (`spawnSync` blocks this process's event loop, so the output
 * goes to a file, not a pipe that could fill): printed when the returned function is awaited, so the log reads as if it
 * ran alone.
 */
function background(name, cmd, args, junit, log) {
  const t0 = Date.now();
  const fd = openSync(log, 'w');
  // pytest colours its output when FORCE_COLOR is set at all, even to 0; PY_COLORS=0 turns that off.
  const env = { ...process.env, FORCE_COLOR: '0', PY_COLORS: '0' };
  const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exit = new Promise((done) => {
    child.on('error', (e) => done(e.message));
    child.on('exit', (code, signal) => done(code ?? signal));
  });
  return async () => {
    const code = await exit;
    console.log(`\n=== ${name}: ${cmd} ${args.join(' ')} (beside the steps above)`);
    process.stdout.write(readFileSync(log));
    const ok = code === 0;
    const why = typeof code === 'number' ? `exit ${code}` : code;
    console.log(`=== ${name}: ${ok ? 'ok' : `FAILED (${why})`} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return { name, ok, junit };
  };
}

function countJunit(path) {
  if (!path || !existsSync(path)) return null;
  const xml = readFileSync(path, 'utf8');
  const cases = [...xml.matchAll(/<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)];
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const failures = [];
  for (const c of cases) {
    const body = c[2] ?? '';
    if (/<(failure|error)\b/.test(body)) {
      failed++;
      failures.push(describeFailure(c[0], body));
    } else if (/<skipped\b/.test(body)) skipped++;
    else passed++;
  }
  return { passed, failed, skipped, failures };
}

const unescapeXml = (s) =>
  s.replace(/&(lt|gt|quot|apos|amp);/g, (_, e) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e]);

/** "file › test: first lines of the message", so the summary (often all a CI log keeps) names what failed. */
function describeFailure(tag, body) {
  const attr = (name) => unescapeXml(tag.match(new RegExp(`\\b${name}="([^"]*)"`))?.[1] ?? '');
  const message = attr('message') || unescapeXml(body.match(/<(?:failure|error)\b[^>]*>([\s\S]*?)<\//)?.[1] ?? '');
  const brief = message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(0, 4)
    .join(' ⏎ ')
    .slice(0, 600);
  return `${attr('classname')} › ${attr('name')}: ${brief}`;
}

const setup = step('setup', 'node', [resolve(root, 'scripts/setup.mjs'), 'test']);
if (!setup.ok) process.exit(1);

// The converter's tests (Python, about 90 s) run beside the checks and the builds, which use about one core.
const pytest = background(
  'converter (pytest)',
  'tools/py',
  ['-m', 'pytest', 'tools/tests', '-q', '-s', `--junitxml=${reports}/pytest.xml`],
  `${reports}/pytest.xml`,
  `${reports}/pytest.log`,
);
const checks = [
  step('typecheck', 'npm', ['run', '--silent', 'typecheck']),
  step('lint', 'npm', ['run', '--silent', 'lint']),
  step('format', 'npm', ['run', '--silent', 'format:check']),
  step('build', 'npm', ['run', '--silent', 'build']),
  step('test build', 'npm', ['run', '--silent', 'build:test']),
];
const built = checks.at(-1).ok && checks.at(-2).ok;
const results = [
  await pytest(),
  ...checks,
  step(
    'unit (vitest)',
    'npx',
    ['vitest', 'run', '--reporter=default', '--reporter=junit', `--outputFile.junit=${reports}/vitest.xml`],
    `${reports}/vitest.xml`,
  ),
];
results.push(
  built
    ? step('e2e (playwright)', 'npx', ['playwright', 'test'], resolve(root, 'test-results/e2e-junit.xml'))
    : { name: 'e2e (playwright)', ok: false, junit: null },
  built
    ? step(
        'webkit (vitest + WebKitWebDriver)',
        'npx',
        [
          'vitest',
          'run',
          '--config',
          'vitest.webkit.config.ts',
          '--reporter=default',
          '--reporter=junit',
          `--outputFile.junit=${reports}/webkit.xml`,
        ],
        `${reports}/webkit.xml`,
      )
    : { name: 'webkit (vitest + WebKitWebDriver)', ok: false, junit: null },
);

let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
console.log('\n=== summary');
for (const r of results) {
  const counts = countJunit(r.junit);
  if (counts) {
    passed += counts.passed;
    failed += counts.failed + (r.ok || counts.failed ? 0 : 1);
    skipped += counts.skipped;
    failures.push(...counts.failures.map((f) => `${r.name}: ${f}`));
    console.log(
      `${r.ok ? 'ok    ' : 'FAILED'} ${r.name}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`,
    );
  } else {
    if (r.ok) passed++;
    else failed++;
    console.log(`${r.ok ? 'ok    ' : 'FAILED'} ${r.name}`);
  }
}
for (const f of failures) console.log(`  ✘ ${f}`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed ? 1 : 0);

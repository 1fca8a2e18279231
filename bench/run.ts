/**
 * `npm run bench [-- section ...]`: speed and memory goals, each measured side by side in one run and printed as
 * ratios.  Sections: mel, long, load, asr, cpu, server, upload, webgpu, live, library, memory, staging.
 */
import { benchAsr } from './asr.ts';
import { benchCpu } from './cpu.ts';
import { benchLibrary } from './library.ts';
import { benchLive } from './live.ts';
import { benchLoad } from './load.ts';
import { benchLong } from './long.ts';
import { benchMel } from './mel.ts';
import { benchMemory } from './memory.ts';
import { benchServer } from './server.ts';
import { benchStaging } from './staging.ts';
import { benchUpload } from './upload.ts';
import { benchWebGpu } from './webgpu.ts';

const sections: Record<string, () => Promise<void>> = {
  mel: benchMel,
  long: benchLong,
  load: benchLoad,
  asr: benchAsr,
  cpu: benchCpu,
  server: benchServer,
  upload: benchUpload,
  webgpu: benchWebGpu,
  live: benchLive,
  library: benchLibrary,
  memory: benchMemory,
  staging: benchStaging,
};
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const run = wanted.length ? wanted : Object.keys(sections);
for (const name of run) {
  const fn = sections[name];
  if (!fn) {
    console.error(`unknown bench section "${name}"; have: ${Object.keys(sections).join(', ')}`);
    process.exit(2);
  }
  await fn();
}

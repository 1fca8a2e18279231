/** onnxruntime-node for the server and the CLI (CPU EP).  See src/core/ort/runtime.ts. */

import * as ort from 'onnxruntime-node';
import { OrtRuntime, type OrtModule } from '../../src/core/ort/runtime.ts';

/** `threads` 0 lets onnxruntime pick (one per core). */
export function createNodeRuntime(threads = 0): OrtRuntime {
  return new OrtRuntime(ort as unknown as OrtModule, 'cpu', threads > 0 ? { intraOpNumThreads: threads } : {});
}

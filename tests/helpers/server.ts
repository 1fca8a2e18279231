/** The app's server started in-process on 127.0.0.1 (port 0) with the tiny test models, quiet, one thread. */
import { resolve } from 'node:path';
import { start, type AppServer, type ServerOptions } from '../../server/server.ts';
import { ARTIFACTS, ROOT } from './data.ts';

export function startTestServer(options: Partial<ServerOptions> = {}): Promise<AppServer> {
  return start({
    port: 0,
    host: '127.0.0.1',
    dist: resolve(ROOT, 'dist'),
    models: resolve(ARTIFACTS, 'models'),
    preload: ['tiny@fp32'],
    threads: 1,
    quiet: true,
    ...options,
  });
}

/**
 * One esbuild bundle of browser code for a test or bench page (an ES module, in memory): the app's own modules run as
 * they are, without the app around them.  Used by kv-page-server.ts (the KV-cache page) and e2e/piece-bytes.spec.ts
 * (a worker over PieceBytes).
 */
import { build, type StdinOptions } from 'esbuild';

/** The bundled text of `entry` (a file) or of `stdin` (source text with the directory its imports resolve from). */
export async function bundleForBrowser(from: { entry: string } | { stdin: StdinOptions }): Promise<string> {
  const bundle = await build({
    ...('entry' in from ? { entryPoints: [from.entry] } : { stdin: from.stdin }),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'error',
  });
  return bundle.outputFiles[0]!.text;
}

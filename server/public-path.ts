/**
 * Paths as a visitor may see them.  The model card shows every visitor what the server reports (the first start's
 * command, where a model came from), and the server machine's directory layout (a user name, a mount) is none of
 * their business.  A path inside the project becomes relative to it (the converter's command runs there), one in
 * the home directory `~/…`, anything else only its last component after `…/`.
 */
import { homedir } from 'node:os';
import { basename, isAbsolute, relative, resolve, sep } from 'node:path';
import type { ModelList } from '../src/core/remote/openai-api.ts';

function inside(parent: string, p: string): boolean {
  return p === parent || p.startsWith(parent.endsWith(sep) ? parent : parent + sep);
}

/** `p` (absolute or relative to the working directory) as a visitor may see it. */
export function publicPath(p: string, projectRoot: string): string {
  const abs = resolve(p);
  const root = resolve(projectRoot);
  if (inside(root, abs)) return relative(root, abs) || '.';
  const home = homedir();
  if (home && home !== sep && inside(home, abs)) return `~/${relative(home, abs)}`;
  return `…/${basename(abs)}`;
}

/**
 * A model list as visitors see it: no directory whose name starts with a dot (a converter's `.NAME.partial` work in
 * progress may already hold a manifest), and `glmasr.source` paths in their public form (a hub id stays as it is).
 */
export function publicModelList(list: ModelList, projectRoot: string): ModelList {
  return {
    ...list,
    data: list.data
      .filter((m) => !m.id.startsWith('.'))
      .map((m) => {
        const source = m.glmasr?.source;
        if (!source || !('path' in source) || !isAbsolute(source.path)) return m;
        return { ...m, glmasr: { ...m.glmasr!, source: { path: publicPath(source.path, projectRoot) } } };
      }),
  };
}

/**
 * Every absolute path in `text` (a `/` that starts a word or follows a quote, `=`, `:` or `(`) in its public form,
 * for sentences that may quote one: an operator's `--model-source`, a converter's error line.
 */
export function scrubPaths(text: string, projectRoot: string): string {
  return text.replace(
    /(^|[\s'"`(=:])(\/(?!\/)[^\s'"`(),;]*)/g,
    (_, lead: string, p: string) => lead + publicPath(p, projectRoot),
  );
}

import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { REPO_DIR } from './child.ts';

/**
 * Minified, then gzip -9: what a browser downloads for `export * from <entry>` (of each entry, when several), or
 * for its default export only, or for the named exports `only` lists (what an app that imports just those ships).
 * Bare imports resolve from `packages/<resolveFrom>`, so a dependency is the very version that package bundles
 * with. Dynamic imports are split off as bundlers do (`splitting`): `min`/`gzip` count the entry chunk (with the
 * chunks it imports statically), `lazyGzip` the chunks loaded on demand, and `lazy` each of those by the source
 * file its `import()` names (e.g. `redirect-sign-in.ts`).
 *
 * @example
 * ```ts
 * const { gzip } = await bundleSize('client', '@gatehouse/client', ['ky']);
 * ```
 */
export async function bundleSize(
  resolveFrom: string,
  entry: string | string[],
  external: string[] = [],
  only?: 'default' | readonly string[],
): Promise<{ min: number; gzip: number; lazyGzip: number; lazy: Record<string, number> }> {
  const contents = only
    ? `export { ${[only].flat().join(', ')} } from ${JSON.stringify(entry)};`
    : [entry]
        .flat()
        .map((e) => `export * from ${JSON.stringify(e)};`)
        .join('\n');
  const result = await build({
    stdin: {
      contents,
      resolveDir: join(REPO_DIR, 'packages', resolveFrom),
      loader: 'js',
      sourcefile: 'entry.js',
    },
    bundle: true,
    splitting: true,
    outdir: 'out',
    metafile: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@gatehouse/source'],
    external,
    write: false,
    logLevel: 'silent',
  });
  const outputs = result.metafile.outputs;
  const path = (file: { path: string }) => `out/${file.path.split('/out/').pop()}`;
  const entryFile = Object.keys(outputs).find((file) => outputs[file]?.entryPoint !== undefined);
  // The entry and what it imports statically load at once; whatever only `import()` reaches loads later.
  const eager = new Set<string>();
  const visit = (file: string | undefined) => {
    if (!file || eager.has(file)) return;
    eager.add(file);
    for (const imported of outputs[file]?.imports ?? [])
      if (imported.kind === 'import-statement') visit(imported.path);
  };
  visit(entryFile);
  let min = 0;
  let gzip = 0;
  let lazyGzip = 0;
  const lazy: Record<string, number> = {};
  for (const file of result.outputFiles) {
    const size = gzipSync(file.contents, { level: 9 }).byteLength;
    if (eager.has(path(file))) {
      min += file.contents.byteLength;
      gzip += size;
    } else {
      lazyGzip += size;
      const source = outputs[path(file)]?.entryPoint?.split('/').pop() ?? path(file);
      lazy[source] = (lazy[source] ?? 0) + size;
    }
  }
  return { min, gzip, lazyGzip, lazy };
}

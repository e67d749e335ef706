import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { REPO_DIR } from './child.ts';

/**
 * Minified, then gzip -9: what a browser downloads for `export * from <entry>` (of each entry, when several), or
 * for its default export only, or for the named exports `only` lists (what an app that imports just those ships). Bare imports resolve from `packages/<resolveFrom>`, so a dependency is the very
 * version that package bundles with.
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
): Promise<{ min: number; gzip: number }> {
  const contents = only
    ? `export { ${[only].flat().join(', ')} } from ${JSON.stringify(entry)};`
    : [entry]
        .flat()
        .map((e) => `export * from ${JSON.stringify(e)};`)
        .join('\n');
  const result = await build({
    stdin: { contents, resolveDir: join(REPO_DIR, 'packages', resolveFrom), loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@gatehouse/source'],
    external,
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.contents;
  return { min: code.byteLength, gzip: gzipSync(code, { level: 9 }).byteLength };
}

import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The demo page's script and stylesheet, built in memory. */
export interface WebBundle {
  readonly script: string;
  readonly stylesheet: string;
}

// The page's sources stay TypeScript and CSS (esbuild reads them), also when this module runs
// from dist/: from src/web/ and dist/web/ alike, ../../src/web/browser/ is the same folder.
const entry = (file: string) => fileURLToPath(new URL(`../../src/web/browser/${file}`, import.meta.url));

/**
 * Bundles the demo page (its script with the SDK's browser entry, and its stylesheet) with esbuild,
 * in memory: nothing to build before `pnpm start`, nothing written to disk. Workspace packages
 * resolve to their TypeScript sources through the `@gatehouse/source` condition.
 *
 * @example
 * ```ts
 * const { script, stylesheet } = await bundleWebPage();
 * ```
 */
export async function bundleWebPage(): Promise<WebBundle> {
  const result = await build({
    entryPoints: { demo: entry('main.ts'), styles: entry('demo.css') },
    bundle: true,
    write: false,
    outdir: 'out',
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    conditions: ['@gatehouse/source'],
    logLevel: 'silent',
  });
  const output = (extension: string) => {
    const file = result.outputFiles.find((f) => f.path.endsWith(extension));
    if (!file) throw new Error(`the demo page bundle has no ${extension} output`);
    return file.text;
  };
  return { script: output('.js'), stylesheet: output('.css') };
}

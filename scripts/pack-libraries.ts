// `pnpm pack:libraries`: installable tarballs of the three published libraries, built fresh from
// the sources, in ./packed (or the directory given as the first argument). Install them in an
// app outside this repository with `npm install <path>/gatehouse-client-<version>.tgz`.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const PUBLISHED_LIBRARIES = ['client', 'resource', 'server'] as const;

const destination = resolve(process.argv[2] ?? join(root, 'packed'));
mkdirSync(destination, { recursive: true });
for (const old of readdirSync(destination))
  if (/^gatehouse-.*\.tgz$/.test(old)) rmSync(join(destination, old));

// The pnpm running this script (`pnpm pack:libraries` sets npm_execpath), else the one on PATH.
const own = process.env.npm_execpath;
const pnpm = own?.includes('pnpm') ? (/\.[cm]?js$/.test(own) ? [process.execPath, own] : [own]) : ['pnpm'];
for (const name of PUBLISHED_LIBRARIES) {
  // `pnpm pack` runs each package's prepack (a clean build of dist/) and applies publishConfig.
  execFileSync(pnpm[0] as string, [...pnpm.slice(1), 'pack', '--pack-destination', destination], {
    cwd: join(root, 'packages', name),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
const tarballs = readdirSync(destination).filter((file) => /^gatehouse-.*\.tgz$/.test(file));
console.log(tarballs.map((file) => join(destination, file)).join('\n'));

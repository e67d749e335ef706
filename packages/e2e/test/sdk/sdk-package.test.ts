// The SDK as a consumer gets it from the registry: `pnpm pack` (which builds dist), unpacked into a
// scratch project's node_modules next to ky, then imported by Node and type-checked by TypeScript
// against the published declarations.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CLIENT_DIR = resolve(import.meta.dirname, '../../../client');
const REPO_DIR = resolve(CLIENT_DIR, '../..');

interface PackedManifest {
  type: string;
  sideEffects: boolean;
  exports: Record<string, Record<string, string>>;
  dependencies: Record<string, string>;
}

describe('@gatehouse/client as published', { timeout: 120_000 }, () => {
  let scratch: string;
  let manifest: PackedManifest;
  let packedFiles: string[];

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'gatehouse-sdk-package-'));
    // The pnpm running this test (`npx pnpm test` leaves none on PATH), else the one on PATH.
    const own = process.env.npm_execpath;
    const pnpm = own?.includes('pnpm')
      ? /\.[cm]?js$/.test(own)
        ? [process.execPath, own]
        : [own]
      : ['pnpm'];
    await run(pnpm[0]!, [...pnpm.slice(1), 'pack', '--pack-destination', scratch], { cwd: CLIENT_DIR });
    const tarball = (await readdir(scratch)).find((name) => name.endsWith('.tgz'));
    if (!tarball) throw new Error(`pnpm pack wrote no tarball to ${scratch}`);
    const installed = join(scratch, 'node_modules/@gatehouse/client');
    await mkdir(installed, { recursive: true });
    await run('tar', ['xzf', join(scratch, tarball), '-C', installed, '--strip-components=1']);
    // ky, the SDK's only dependency, as the workspace resolved it.
    await symlink(await realpath(join(CLIENT_DIR, 'node_modules/ky')), join(scratch, 'node_modules/ky'));
    manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as PackedManifest;
    packedFiles = (await run('tar', ['tzf', join(scratch, tarball)])).stdout.split('\n').filter(Boolean);
  });
  afterAll(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('is ESM without side effects, with types first in every export and ky as its only dependency', () => {
    expect(manifest.type).toBe('module');
    expect(manifest.sideEffects).toBe(false);
    expect(Object.keys(manifest.exports)).toEqual(['.', './node', './popup']);
    for (const conditions of Object.values(manifest.exports)) {
      expect(Object.keys(conditions)).toEqual(['types', 'default']);
    }
    expect(Object.keys(manifest.dependencies)).toEqual(['ky']);
  });

  it('ships the built entry points and their declarations, and no sources or tests', () => {
    expect(packedFiles).toEqual(
      expect.arrayContaining([
        'package/dist/index.js',
        'package/dist/index.d.ts',
        'package/dist/node/index.js',
        'package/dist/node/index.d.ts',
        'package/dist/popup/index.js',
        'package/dist/popup/index.d.ts',
      ]),
    );
    expect(packedFiles.filter((file) => /\.test\.|\/src\/|\/test\//.test(file))).toEqual([]);
  });

  it('imports in Node: the browser entry without the Node-only flows, /node with them, /popup', async () => {
    const script = join(scratch, 'check.mjs');
    await writeFile(
      script,
      `import * as browser from '@gatehouse/client';
import * as node from '@gatehouse/client/node';
import * as popup from '@gatehouse/client/popup';
const options = { issuer: 'https://id.example.com', clientId: 'demo' };
const a = browser.createGatehouseClient(options);
const b = node.createGatehouseClient(options);
console.log(JSON.stringify({
  browser: Object.keys(browser).sort(),
  node: Object.keys(node).sort(),
  popup: Object.keys(popup).sort(),
  browserClient: Object.keys(a).sort(),
  nodeClient: Object.keys(b).sort(),
  errorName: new browser.SessionExpiredError('x').name,
}));
a.close();
b.close();
`,
    );
    const { stdout } = await run(process.execPath, [script], { cwd: scratch });
    const seen = JSON.parse(stdout) as Record<string, string[] | string>;
    expect(seen.browser).toEqual(
      expect.arrayContaining(['createGatehouseClient', 'hybridStorage', 'browserStorage', 'memoryStorage']),
    );
    expect(seen.browser).not.toContain('fileStorage');
    expect(seen.node).toEqual(
      expect.arrayContaining(['createGatehouseClient', 'fileStorage', 'inProcessLock']),
    );
    // The popup entry loads in Node (server rendering imports it) without touching `window`.
    expect(seen.popup).toEqual(['handlePopupCallback', 'signInPopup', 'signInSilent']);
    expect(seen.browserClient).not.toContain('signInWithDeviceCode');
    expect(seen.nodeClient).toEqual(
      expect.arrayContaining([
        'signInWithDeviceCode',
        'signInWithClientCredentials',
        'getAccessToken',
        'http',
      ]),
    );
    expect(seen.errorName).toBe('SessionExpiredError');
  });

  it('type-checks a consumer against the published declarations (skipLibCheck off)', async () => {
    await writeFile(
      join(scratch, 'consumer.ts'),
      `import { createGatehouseClient, GatehouseError, hybridStorage } from '@gatehouse/client';
import { createGatehouseClient as createNodeClient, fileStorage } from '@gatehouse/client/node';
import { signInPopup } from '@gatehouse/client/popup';

const spa = createGatehouseClient({ issuer: 'https://id.example.com', clientId: 'spa', storage: hybridStorage() });
spa.on('sessionExpired', (error) => console.log(error.code satisfies GatehouseError['code']));
try {
  await spa.getAccessToken();
} catch (err) {
  // instanceof narrows to the union of the SDK's errors, the code to the class
  if (err instanceof GatehouseError && err.code === 'ERR_OAUTH') console.log(err.error, err.status);
}
try {
  await signInPopup(spa, { redirectUri: 'https://app.example.com/popup-callback.html' });
} catch (err) {
  if (err instanceof GatehouseError && err.code === 'ERR_POPUP_BLOCKED') await spa.signInRedirect();
}
const cli = createNodeClient({ issuer: 'https://id.example.com', clientId: 'cli', storage: fileStorage('t.json') });
await cli.signInWithDeviceCode({ onUserCode: ({ userCode }) => console.log(userCode) });
// @ts-expect-error the browser entry's client has no device flow
await spa.signInWithDeviceCode({ onUserCode: () => undefined });
`,
    );
    await writeFile(
      join(scratch, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          lib: ['es2023', 'dom'],
          types: [],
          strict: true,
          noEmit: true,
          skipLibCheck: false,
        },
        files: ['consumer.ts'],
      }),
    );
    await writeFile(join(scratch, 'package.json'), JSON.stringify({ type: 'module' }));
    const tsc = join(REPO_DIR, 'node_modules/.bin/tsc');
    const result = await run(tsc, ['-p', scratch], { cwd: scratch }).then(
      () => '',
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    expect(result).toBe('');
  });
});

// The three libraries as a user outside this repository gets them: `pnpm pack:libraries` builds
// tarballs, a throwaway project in the system's temporary directory installs them with its own
// package manager (dependencies from the registry, nothing from the workspace), a consumer is
// type-checked against the published declarations, and then runs: the server from its built
// JavaScript issues a token, the verifier checks it, and the browser SDK bundles with esbuild.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const REPO_DIR = resolve(import.meta.dirname, '../../../..');

/** The pnpm running this test (`pnpm test` sets npm_execpath), else the one on PATH. */
function pnpmCommand(): string[] {
  const own = process.env.npm_execpath;
  return own?.includes('pnpm') ? (/\.[cm]?js$/.test(own) ? [process.execPath, own] : [own]) : ['pnpm'];
}

async function pnpm(args: readonly string[], cwd: string): Promise<string> {
  const [command, ...prefix] = pnpmCommand();
  const { stdout } = await run(command as string, [...prefix, ...args], { cwd, maxBuffer: 16 << 20 });
  return stdout;
}

interface Manifest {
  name: string;
  version: string;
  license?: string;
  repository?: { url?: string };
  files?: string[];
  exports: Record<string, Record<string, string>>;
  dependencies?: Record<string, string>;
}

describe('the libraries as published, installed outside the workspace', { timeout: 240_000 }, () => {
  let packed: string;
  let app: string;

  beforeAll(async () => {
    packed = await mkdtemp(join(tmpdir(), 'gatehouse-packed-'));
    app = await mkdtemp(join(tmpdir(), 'gatehouse-consumer-'));
    await pnpm(['pack:libraries', packed], REPO_DIR);
    const tarballs = (await readdir(packed)).filter((file) => file.endsWith('.tgz'));
    const dependency = (name: string) => {
      const file = tarballs.find((tarball) => tarball.startsWith(`gatehouse-${name}-`));
      if (!file) throw new Error(`no tarball for ${name} in ${tarballs.join(', ')}`);
      return `file:${join(packed, file)}`;
    };
    await writeFile(
      join(app, 'package.json'),
      JSON.stringify({
        name: 'gatehouse-consumer',
        private: true,
        type: 'module',
        dependencies: {
          '@gatehouse/client': dependency('client'),
          '@gatehouse/resource': dependency('resource'),
          '@gatehouse/server': dependency('server'),
        },
      }),
    );
    // The server depends on the resource library's revocation contract at the same version;
    // until they are on a registry, that dependency is the tarball too (pnpm reads overrides here).
    await writeFile(
      join(app, 'pnpm-workspace.yaml'),
      `overrides:\n  '@gatehouse/resource': '${dependency('resource')}'\n`,
    );
    // A project of its own: no workspace above it, so pnpm resolves everything from the registry.
    await pnpm(['install', '--prefer-offline', '--config.confirmModulesPurge=false'], app);
  });
  afterAll(async () => {
    await Promise.all([packed, app].filter(Boolean).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it.each(['client', 'resource', 'server'])(
    '@gatehouse/%s: publish-ready manifest, types first in every export',
    async (name) => {
      const manifest = JSON.parse(
        await readFile(join(app, 'node_modules/@gatehouse', name, 'package.json'), 'utf8'),
      ) as Manifest;
      expect(manifest.license).toBe('Apache-2.0');
      expect(manifest.repository?.url).toMatch(/^git\+https:/);
      expect(manifest.files).toContain('dist');
      for (const conditions of Object.values(manifest.exports)) {
        expect(Object.keys(conditions)).toEqual(['types', 'default']);
      }
      // Only the server depends on another library: @gatehouse/resource at exactly its own version.
      const own = Object.entries(manifest.dependencies ?? {}).filter(([dep]) =>
        dep.startsWith('@gatehouse/'),
      );
      expect(own).toEqual(name === 'server' ? [['@gatehouse/resource', manifest.version]] : []);
    },
  );

  it('type-checks a consumer of all three against the published declarations', async () => {
    await writeFile(
      join(app, 'consumer.ts'),
      `import { createGatehouseClient, type GatehouseError } from '@gatehouse/client';
import { createGatehouseClient as createNodeClient } from '@gatehouse/client/node';
import { createAccessTokenVerifier } from '@gatehouse/resource';
import { requireAccessToken } from '@gatehouse/resource/koa';
import { createGatehouseServer, loadConfig } from '@gatehouse/server';

const server = await createGatehouseServer(loadConfig({ NODE_ENV: 'development' }));
const verifier = createAccessTokenVerifier({ issuer: server.config.issuer, audience: 'http://localhost:4001' });
const guard = requireAccessToken({ verifier, scopes: ['recipes:read'] });
const spa = createGatehouseClient({ issuer: server.config.issuer, clientId: 'spa' });
spa.on('sessionExpired', (error) => console.log(error.code satisfies GatehouseError['code']));
const service = createNodeClient({ issuer: server.config.issuer, clientId: 'svc', clientSecret: 's' });
console.log(typeof guard, await service.signInWithClientCredentials());
await server.close();
// The declarations are real types, not \`any\`: each line below must be a type error.
// @ts-expect-error the port is a number
server.config.port satisfies string;
// @ts-expect-error verify() takes the token string
await verifier.verify(42);
// @ts-expect-error the browser entry's client has no client-credentials grant
await spa.signInWithClientCredentials();
`,
    );
    await writeFile(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2023',
          lib: ['es2023', 'dom'],
          types: ['node'],
          typeRoots: [join(REPO_DIR, 'node_modules/@types')],
          strict: true,
          noEmit: true,
          // Third-party declarations (ioredis's need @types/redis-errors) are not ours to check;
          // the @ts-expect-error lines prove ours resolve to real types.
          skipLibCheck: true,
        },
        files: ['consumer.ts'],
      }),
    );
    const result = await run(join(REPO_DIR, 'node_modules/.bin/tsc'), ['-p', app], { cwd: app }).then(
      () => '',
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    expect(result).toBe('');
  });

  it('runs: the built server issues a client-credentials token that the built verifier accepts', async () => {
    const port = await freePort();
    await writeFile(
      join(app, 'run.mjs'),
      `import { createGatehouseClient } from '@gatehouse/client/node';
import { createAccessTokenVerifier } from '@gatehouse/resource';
import { createGatehouseServer, loadConfig } from '@gatehouse/server';

const secret = 'a-service-secret-long-enough-to-be-unguessable-0123456789';
const server = await createGatehouseServer(loadConfig({ NODE_ENV: 'development', PORT: '${port}' }), {
  clients: [{
    client_id: 'reports',
    client_secret: secret,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    scope: 'recipes:read',
  }],
});
await server.listen();
const { issuer } = server.config;
const auth = createGatehouseClient({ issuer, clientId: 'reports', clientSecret: secret, scope: 'recipes:read' });
await auth.signInWithClientCredentials();
const verifier = createAccessTokenVerifier({ issuer, audience: 'http://localhost:4001' });
const verified = await verifier.verify(await auth.getAccessToken());
console.log(JSON.stringify({ sub: verified.sub, clientId: verified.clientId, scopes: verified.scopes }));
verifier.close();
await auth.signOut();
await server.close();
`,
    );
    const { stdout } = await run(process.execPath, ['run.mjs'], { cwd: app });
    expect(JSON.parse(stdout)).toEqual({ sub: 'reports', clientId: 'reports', scopes: ['recipes:read'] });
  });

  it("installs the server's admin CLI as the `gatehouse` command", async () => {
    const { stdout } = await run(join(app, 'node_modules/.bin/gatehouse'), ['config', 'check'], {
      cwd: app,
      env: { ...process.env, NODE_ENV: 'development', ACCESS_TOKEN_TTL: '600' },
    });
    expect(JSON.parse(stdout)).toMatchObject({ accessTokenTTL: 600 });
  });

  it('bundles the browser SDK with esbuild for the browser, without Node built-ins', async () => {
    await writeFile(
      join(app, 'app.js'),
      `import { createGatehouseClient, hybridStorage } from '@gatehouse/client';
export const auth = createGatehouseClient({ issuer: 'https://id.example.com', clientId: 'spa', storage: hybridStorage() });
`,
    );
    const esbuild = join(REPO_DIR, 'node_modules/.bin/esbuild');
    const { stdout } = await run(
      esbuild,
      [
        'app.js',
        '--bundle',
        '--format=esm',
        '--platform=browser',
        '--minify',
        '--outfile=bundle.js',
        '--metafile=meta.json',
      ],
      { cwd: app, maxBuffer: 16 << 20 },
    );
    expect(stdout).toBe('');
    expect((await readFile(join(app, 'bundle.js'), 'utf8')).length).toBeGreaterThan(1000);
    const meta = JSON.parse(await readFile(join(app, 'meta.json'), 'utf8')) as {
      inputs: Record<string, unknown>;
    };
    const inputs = Object.keys(meta.inputs);
    expect(inputs.some((input) => input.includes('@gatehouse/client/dist/'))).toBe(true);
    expect(inputs.filter((input) => input.startsWith('node:'))).toEqual([]);
  });
});

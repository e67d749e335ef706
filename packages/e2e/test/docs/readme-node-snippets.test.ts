// The README's Node service snippet, run as written (ports moved to free ones) by Node against the demo
// stack that `pnpm start` runs: client credentials with the seeded `demo-service`, then the demo API.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// biome-ignore lint/style/noRestrictedImports: the test runs the repository's own dev stack, the one `pnpm start` runs; it is no package's API.
import { type DemoStack, startDemoStack } from '../../../../scripts/demo-stack.ts';
import { allReadmeBlocks, blockSlug, REPO_DIR, where } from './readme-blocks.ts';

const run = promisify(execFile);

/** Node snippets that need no person: client credentials. */
const serviceSnippets = allReadmeBlocks().filter(
  (block) =>
    block.lang === 'ts' &&
    block.code.includes("from '@gatehouse/client/node'") &&
    block.code.includes('signInWithClientCredentials()'),
);

describe('the README Node service snippet, run by Node', { timeout: 60_000 }, () => {
  let stack: DemoStack;
  beforeAll(async () => {
    stack = await startDemoStack({
      serverPort: await freePort(),
      apiPort: await freePort(),
      env: { NODE_ENV: 'test', GATEHOUSE_SECRET: 'readme-snippet-secret-0123456789abcdef0123' },
      onError: (err) => console.error('demo stack error:', err),
    });
  });
  afterAll(() => stack?.close());

  it('is in the client README', () => {
    expect(serviceSnippets.map((block) => block.file)).toContain('packages/client/README.md');
  });

  it.each(serviceSnippets.map((block) => [where(block), block] as const))(
    '%s: gets a token and calls the API as demo-service',
    async (_where, block) => {
      const dir = join(REPO_DIR, 'packages/e2e/.docs-check');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, '.gitignore'), '*\n');
      const file = join(dir, `run-${blockSlug(block)}.ts`);
      writeFileSync(
        file,
        block.code
          .replaceAll('http://localhost:4000', stack.issuer)
          .replaceAll('http://localhost:4001', stack.apiUrl),
      );
      const { stdout } = await run(process.execPath, ['--conditions=@gatehouse/source', file], {
        cwd: dir,
        env: { ...process.env, GATEHOUSE_CLIENT_SECRET: stack.serviceSecret },
        timeout: 30_000,
      });
      expect(stdout).toMatch(/client_id: 'demo-service'/);
    },
  );
});

import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources (the `@gatehouse/source`
// export condition), so tests never need a build step.
const conditions = ['@gatehouse/source'];
const packages = ['server', 'resource', 'client', 'react', 'demo-api', 'testkit', 'e2e'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    projects: [
      ...packages.map((name) => ({
        extends: true,
        test: {
          name,
          root: `packages/${name}`,
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
        },
      })),
      // The bench's own checks: documented Redis costs, generated docs in step with latest.json.
      { extends: true, test: { name: 'bench', root: 'bench', include: ['test/**/*.test.ts'] } },
    ],
    testTimeout: 30_000,
    // expect.poll waits for pages, mail and revocations on a shared 2-core machine: 1 s (the
    // default) is too short under load; the assertion itself is unchanged.
    expect: { poll: { timeout: 10_000 } },
    hookTimeout: 60_000,
    pool: 'forks',
  },
});

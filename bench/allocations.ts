/**
 * `node bench/allocations.ts [tokens] [warmup]`: bytes allocated per client-credentials token (scenario 1's
 * request), Gatehouse against bare oidc-provider, by the function that allocated them. Garbage
 * collection is where much of Gatehouse's extra CPU goes (docs/performance.md), and it grows with
 * what each request allocates: this says which frames allocate what bare oidc-provider does not.
 *
 * Each server runs with V8's sampling heap profiler preloaded (`support/heap-sampling.ts`, one
 * sample per 256 bytes on average, freed objects kept); it samples while `tokens` tokens are
 * issued after `warmup` (16 in flight, as the bench loads). Prints KB per token for each server,
 * then the functions whose allocations differ most (bytes per token, Gatehouse minus bare), and
 * Gatehouse's allocations by the nearest frame of its own (packages/server/src) on the stack.
 * Profiles are kept in bench/results/callgrind/allocations-<pid>/ (git-ignored).
 */
import { once } from 'node:events';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '@gatehouse/testkit';
import { BENCH_DIR, REPO_DIR, spawnNode, waitForHttp } from './support/child.ts';
import { loadServiceTokens, measureGatehouseAndBare } from './support/service-token-pair.ts';

const tokens = Number(process.argv[2] ?? 5000);
const warmup = Number(process.argv[3] ?? 3000);
const out = join(BENCH_DIR, `results/callgrind/allocations-${process.pid}`);

interface HeapNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children: readonly HeapNode[];
}

/** Bytes per token by allocating function, and by the nearest Gatehouse frame above it. */
async function measure(name: string, script: string, env: Record<string, string>) {
  const port = await freePort();
  const file = join(out, `${name}.heapprofile`);
  const server = spawnNode(
    script,
    [],
    { NODE_ENV: 'test', PORT: String(port), HEAP_SAMPLING_OUT: file, ...env },
    ['--import', join(BENCH_DIR, 'support/heap-sampling.ts')],
  );
  const url = `http://127.0.0.1:${port}`;
  const toggle = async () => {
    const acknowledged = once(server.child, 'message');
    server.child.kill('SIGUSR2');
    await acknowledged;
  };
  try {
    await waitForHttp(`${url}/.well-known/openid-configuration`, server);
    await loadServiceTokens(url, warmup);
    await toggle();
    await loadServiceTokens(url, tokens);
    await toggle();
  } finally {
    await server.stop();
  }
  const profile = JSON.parse(await readFile(file, 'utf8')) as {
    head: HeapNode;
    samples: { nodeId: number; size: number }[];
  };
  const bytes = new Map<number, number>();
  for (const { nodeId, size } of profile.samples) bytes.set(nodeId, (bytes.get(nodeId) ?? 0) + size);
  const byFunction = new Map<string, number>();
  const byOwnFrame = new Map<string, number>();
  let total = 0;
  const add = (map: Map<string, number>, key: string, n: number) =>
    map.set(key, (map.get(key) ?? 0) + n / tokens);
  const walk = (node: HeapNode, own: string | undefined) => {
    const { functionName, url: source, lineNumber } = node.callFrame;
    const where = source
      .replace(/^file:\/\//, '')
      .replace(/.*\/node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, '');
    const frame = `${functionName || '(anonymous)'} ${where.replace(`${REPO_DIR}`, '')}:${lineNumber + 1}`;
    const nearest = source.includes('/packages/server/src/') ? frame : own;
    const n = bytes.get(node.id) ?? 0;
    total += n;
    add(byFunction, frame, n);
    if (nearest) add(byOwnFrame, nearest, n);
    for (const c of node.children) walk(c, nearest);
  };
  walk(profile.head, undefined);
  return { name, kbPerToken: total / tokens / 1024, byFunction, byOwnFrame };
}

await mkdir(out, { recursive: true });
const { gatehouse, bare } = await measureGatehouseAndBare(out, measure);
const line = (n: number, label: string) => `${Math.round(n).toString().padStart(7)}  ${label}`;
const names = new Set([...gatehouse.byFunction.keys(), ...bare.byFunction.keys()]);
const diff = [...names]
  .map((k) => [k, (gatehouse.byFunction.get(k) ?? 0) - (bare.byFunction.get(k) ?? 0)] as const)
  .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))
  .slice(0, 30);
const own = [...gatehouse.byOwnFrame].sort((a, b) => b[1] - a[1]).slice(0, 20);
process.stdout.write(
  [
    `allocated per token (${tokens} tokens after ${warmup} warm-up): Gatehouse ${gatehouse.kbPerToken.toFixed(1)} KB, ` +
      `bare oidc-provider ${bare.kbPerToken.toFixed(1)} KB`,
    'bytes per token by allocating function, Gatehouse minus bare:',
    ...diff.map(([k, n]) => line(n, k)),
    "Gatehouse's bytes per token by its nearest own frame (everything allocated below it):",
    ...own.map(([k, n]) => line(n, k)),
    '',
  ].join('\n'),
);

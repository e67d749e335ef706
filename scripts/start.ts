// `pnpm start`: the authorization server (:4000) and the demo API (:4001) together, straight
// from their TypeScript sources. Without REDIS_URL both run on in-process stores. Ctrl-C
// (SIGINT) or SIGTERM stops both cleanly.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  console.error(`Gatehouse needs Node.js >= 22.12 (24 LTS recommended); this is ${process.versions.node}.`);
  process.exit(1);
}

const services = [
  { name: 'server', entry: 'packages/server/src/main.ts' },
  { name: 'demo-api', entry: 'packages/demo-api/src/main.ts' },
].filter((service) => existsSync(join(root, service.entry)));

const children: ChildProcess[] = services.map((service) =>
  spawn(process.execPath, ['--conditions=@gatehouse/source', join(root, service.entry)], {
    stdio: 'inherit',
    env: process.env,
  }),
);

let stopping = false;
function stop(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill(signal);
}
process.on('SIGINT', () => stop('SIGTERM'));
process.on('SIGTERM', () => stop('SIGTERM'));

let exitCode = 0;
await Promise.all(
  children.map(
    (child, i) =>
      new Promise<void>((resolve) => {
        child.on('exit', (code) => {
          if (!stopping) {
            console.error(`${services[i]?.name} exited (${code}); stopping the others.`);
            exitCode = code ?? 1;
            stop('SIGTERM');
          }
          resolve();
        });
      }),
  ),
);
process.exit(exitCode);

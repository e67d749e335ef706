// Runs before `pnpm test`: the tests start private redis-server processes and drive
// Chromium, so say in one line what is missing and how to get it, instead of failing later.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

// The Node.js version was checked by check-node.mjs just before.
const problems: string[] = [];

function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const missing: string[] = [];
if (!onPath('redis-server') || !onPath('redis-cli')) missing.push('redis-server');
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(chromium) && !onPath('chromium')) missing.push('chromium');
if (missing.length > 0) {
  problems.push(
    `missing ${missing.join(' and ')}: install with \`sudo apt-get install -y ${missing.join(' ')}\``,
  );
}

if (problems.length > 0) {
  console.error(`pnpm test cannot run: ${problems.join('; ')}.`);
  process.exit(1);
}

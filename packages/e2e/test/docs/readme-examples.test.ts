// Every fenced block of README.md and packages/*/README.md is checked, so a doc example cannot go stale
// unnoticed: TypeScript, TSX and JavaScript are type-checked against the workspace packages (the browser SDK
// snippet also runs in Chromium, readme-sdk-snippet.test.ts, and the Node service snippet in Node,
// readme-node-snippets.test.ts), shell commands must name pnpm scripts and
// `gatehouse` subcommands that exist, JSON must parse (client metadata must pass the CLI's validation),
// and a block that is deliberately not code says so with ```text. Any other block fails here.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { newClientMetadata } from '@gatehouse/server/internal/cli/new-client-metadata';
import { parseCommand } from '@gatehouse/server/internal/cli/parse-command';
import { describe, expect, it } from 'vitest';
import { allReadmeBlocks, blockSlug, REPO_DIR, type ReadmeBlock, where } from './readme-blocks.ts';

const run = promisify(execFile);

const TYPESCRIPT = new Set(['ts', 'typescript', 'js', 'javascript', 'tsx']);
const SHELL = new Set(['sh', 'bash', 'shell']);
const JSON_BLOCK = new Set(['json']);
/** Output, diagrams, file trees: marked as such in the markdown, checked by nobody. */
const NOT_CODE = new Set(['text']);
/** Commands other than pnpm a README may tell the reader to run. */
const KNOWN_COMMANDS = new Set(['redis-server', 'cd']);

const blocks = allReadmeBlocks();
const kind = (block: ReadmeBlock) =>
  TYPESCRIPT.has(block.lang)
    ? 'typescript'
    : SHELL.has(block.lang)
      ? 'shell'
      : JSON_BLOCK.has(block.lang)
        ? 'json'
        : NOT_CODE.has(block.lang)
          ? 'text'
          : undefined;

describe('README code blocks', () => {
  it('finds the READMEs and their blocks', () => {
    expect(new Set(blocks.map((block) => block.file))).toEqual(
      expect.objectContaining(new Set(['README.md', 'packages/client/README.md'])),
    );
    expect(blocks.filter((block) => kind(block) === 'typescript').length).toBeGreaterThanOrEqual(5);
  });

  it('every block is one a test handles (TypeScript, shell, JSON) or marked ```text', () => {
    const unhandled = blocks
      .filter((block) => kind(block) === undefined)
      .map((block) => `${where(block)}: \`\`\`${block.lang || '(no info string)'}`);
    expect(unhandled).toEqual([]);
  });

  it('TypeScript blocks type-check against the workspace packages (strict, as the packages are)', async () => {
    const typescript = blocks.filter((block) => kind(block) === 'typescript');
    const dir = join(REPO_DIR, 'packages/e2e/.docs-check');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '.gitignore'), '*\n');
    // Inside the workspace so that `@gatehouse/*` resolve to the packages' sources (the e2e package
    // depends on all of them); koa's types come from the package that uses it.
    const koaTypes = relative(dir, join(REPO_DIR, 'packages/resource/node_modules/@types/koa/index.d.ts'));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: '../../../tsconfig.base.json',
        // React examples (```tsx) compile as a React app does, with the automatic JSX runtime.
        compilerOptions: { noEmit: true, sourceMap: false, jsx: 'react-jsx', paths: { koa: [koaTypes] } },
        include: ['*.ts', '*.tsx'],
      }),
    );
    const files = new Map<string, ReadmeBlock>();
    for (const block of typescript) {
      const file = `${blockSlug(block)}.${block.lang === 'tsx' ? 'tsx' : 'ts'}`;
      files.set(file, block);
      // A module of its own (top-level await, no shared globals), lines kept in step with the README.
      writeFileSync(join(dir, file), `${block.code}\nexport {};\n`);
    }
    const tsc = join(REPO_DIR, 'node_modules/.bin/tsc');
    const output = await run(tsc, ['-p', dir, '--pretty', 'false'], { cwd: dir }).then(
      () => '',
      (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}`,
    );
    // `x.ts(3,5): error TS…` → `README.md:209: error TS…` (the README's line).
    const errors = output
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const match = /^(?:.*[/\\])?([^/\\(]+\.tsx?)\((\d+),\d+\): (.*)$/.exec(line);
        const block = match && files.get(match[1] ?? '');
        return block ? `${block.file}:${block.line + Number(match[2])}: ${match[3]}` : line;
      });
    expect(errors).toEqual([]);
  });

  it('shell blocks name pnpm scripts and gatehouse commands that exist, and known programs', () => {
    const problems = blocks
      .filter((block) => kind(block) === 'shell')
      .flatMap((block) => shellCommands(block.code).map((command) => [block, command] as const))
      .flatMap(([block, command]) => {
        const problem = checkCommand(command);
        return problem ? [`${where(block)}: \`${command.join(' ')}\`: ${problem}`] : [];
      });
    expect(problems).toEqual([]);
  });

  it('the command check refuses what would not run as written', () => {
    const check = (script: string) => shellCommands(script).map(checkCommand);
    expect(check('npx -y pnpm@12.4.2 install && npx -y pnpm@12.4.2 start # comment')).toEqual([
      undefined,
      undefined,
    ]);
    expect(check('REDIS_URL=redis://x pnpm gatehouse clients add --json \'{"a": 1}\'')).toEqual([undefined]);
    expect(check('pnpm --filter @gatehouse/demo-api start')).toEqual([undefined]);
    expect(check('pnpm no-such-script')[0]).toMatch(/no script "no-such-script"/);
    expect(check('pnpm gatehouse clients frobnicate')[0]).toMatch(/the gatehouse CLI refuses it/);
    expect(check('pnpm --filter @gatehouse/nope start')[0]).toMatch(/no workspace package/);
    expect(check('curl -s http://localhost:4000/healthz')[0]).toMatch(/not a command the README tests know/);
    expect(check('npm install ../gatehouse/packed/gatehouse-client-0.1.0.tgz')).toEqual([undefined]);
    expect(check('npm install ../gatehouse/packed/gatehouse-client-9.9.9.tgz')[0]).toMatch(/not 9\.9\.9/);
    expect(check('npm install left-pad')[0]).toMatch(/not a tarball/);
  });

  it('JSON blocks parse; client metadata passes the validation of `gatehouse clients add`', () => {
    const problems = blocks
      .filter((block) => kind(block) === 'json')
      .flatMap((block) => {
        try {
          const value: unknown = JSON.parse(block.code);
          for (const item of [value].flat()) {
            if (item && typeof item === 'object' && ('redirect_uris' in item || 'grant_types' in item)) {
              newClientMetadata(item, Date.now());
            }
          }
          return [];
        } catch (error) {
          return [`${where(block)}: ${(error as Error).message}`];
        }
      });
    expect(problems).toEqual([]);
  });
});

/**
 * The commands of a shell block, each as words: comments dropped, `&&`, `||`, `;`, `|` and a trailing `&`
 * split, leading `VAR=value` assignments removed. Quotes group words; nothing is expanded.
 */
export function shellCommands(script: string): string[][] {
  const commands: string[][] = [];
  for (const line of script.replace(/\\\n/g, ' ').split('\n')) {
    let words: string[] = [];
    for (const [, token] of line.matchAll(/\s*('[^']*'|"[^"]*"|&&|\|\||[;|&]|#.*|[^\s;|&]+)/g)) {
      if (!token || token.startsWith('#')) break;
      if (['&&', '||', ';', '|', '&'].includes(token)) {
        commands.push(words);
        words = [];
      } else if (words.length > 0 || !/^[A-Z_][A-Z0-9_]*=/.test(token)) {
        words.push(token.replace(/^'(.*)'$|^"(.*)"$/, '$1$2'));
      }
    }
    commands.push(words);
  }
  return commands.filter((words) => words.length > 0);
}

const scriptsOf = (dir: string): Record<string, string> =>
  (
    JSON.parse(readFileSync(join(REPO_DIR, dir, 'package.json'), 'utf8')) as {
      scripts?: Record<string, string>;
    }
  ).scripts ?? {};

const packageDirs = (): Map<string, string> => {
  const dirs = new Map<string, string>();
  for (const name of ['server', 'resource', 'client', 'react', 'demo-api', 'testkit', 'e2e']) {
    const manifest = JSON.parse(readFileSync(join(REPO_DIR, 'packages', name, 'package.json'), 'utf8')) as {
      name: string;
    };
    dirs.set(manifest.name, join('packages', name));
  }
  return dirs;
};

/**
 * `npm install <dir>/packed/gatehouse-<library>-<version>.tgz`: the file `pnpm pack:libraries`
 * writes for a published library at its current version.
 */
function checkTarballInstall(paths: readonly string[]): string | undefined {
  for (const path of paths) {
    const match = /(?:^|\/)packed\/gatehouse-(client|resource|server)-(\d+\.\d+\.\d+)\.tgz$/.exec(path);
    if (!match) return `\`${path}\` is not a tarball \`pnpm pack:libraries\` writes`;
    const dir = join('packages', match[1] as string);
    const { version } = JSON.parse(readFileSync(join(REPO_DIR, dir, 'package.json'), 'utf8')) as {
      version: string;
    };
    if (version !== match[2]) return `${dir} is at version ${version}, not ${match[2]}`;
  }
  return paths.length > 0 ? undefined : 'npm install without a tarball';
}

/** Why a command from a README would not work as written, or `undefined` when it would. */
export function checkCommand(words: readonly string[]): string | undefined {
  const [program, ...rest] = words;
  let args: string[];
  if (program === 'pnpm') args = rest;
  else if (program === 'npx' && rest.filter((word) => word !== '-y')[0]?.startsWith('pnpm@')) {
    args = rest.filter((word) => word !== '-y').slice(1);
  } else if (program === 'npm' && rest[0] === 'install') return checkTarballInstall(rest.slice(1));
  else if (program && KNOWN_COMMANDS.has(program)) return undefined;
  else
    return `\`${program}\` is not a command the README tests know (pnpm, ${[...KNOWN_COMMANDS].join(', ')})`;

  let dir = '.';
  if (args[0] === '--filter' || args[0] === '-F') {
    const found = packageDirs().get(args[1] ?? '');
    if (!found) return `no workspace package ${args[1]}`;
    dir = found;
    args = args.slice(2);
  }
  const [name = '', ...scriptArgs] = args[0] === 'run' ? args.slice(1) : args;
  if (name === 'install' && dir === '.') return undefined;
  if (!(name in scriptsOf(dir))) return `no script "${name}" in ${join(dir, 'package.json')}`;
  if (name === 'gatehouse' && dir === '.') {
    try {
      parseCommand(scriptArgs);
    } catch (error) {
      return `the gatehouse CLI refuses it: ${(error as Error).message}`;
    }
  }
  return undefined;
}

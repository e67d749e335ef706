import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO_DIR = fileURLToPath(new URL('../../../../', import.meta.url));

/** One fenced code block of a README. */
export interface ReadmeBlock {
  /** The README, relative to the repository root: `README.md`, `packages/client/README.md`. */
  readonly file: string;
  /** The 1-based line of the opening fence. */
  readonly line: number;
  /** The info string's first word (`ts`, `sh`, `text` …), `''` when the fence has none. */
  readonly lang: string;
  readonly code: string;
  /** The nearest heading above the block. */
  readonly heading: string;
}

/** `README.md` and every `packages/<name>/README.md`, relative to the repository root. */
export function readmeFiles(): string[] {
  const packages = readdirSync(join(REPO_DIR, 'packages'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join('packages', entry.name, 'README.md'))
    .filter((file) => existsSync(join(REPO_DIR, file)));
  return ['README.md', ...packages.sort()];
}

/**
 * The fenced code blocks of one README (CommonMark: a fence of three or more backticks or tildes, closed by
 * a fence of the same character at least as long).
 *
 * @example
 * ```ts
 * const blocks = readmeBlocks('packages/client/README.md').filter((block) => block.lang === 'ts');
 * ```
 */
export function readmeBlocks(file: string): ReadmeBlock[] {
  const lines = readFileSync(join(REPO_DIR, file), 'utf8').split('\n');
  const blocks: ReadmeBlock[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const open = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/.exec(lines[i] ?? '');
    if (!open) {
      const title = /^#{1,6}\s+(.*)$/.exec(lines[i] ?? '');
      if (title) heading = title[1] ?? '';
      continue;
    }
    const fence = open[1] ?? '```';
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(lines[j] ?? '')?.[1];
      if (close && close[0] === fence[0] && close.length >= fence.length) break;
      body.push(lines[j] ?? '');
    }
    blocks.push({ file, line: i + 1, lang: open[2] ?? '', code: body.join('\n'), heading });
    i = j;
  }
  return blocks;
}

/** Every fenced block of every README, in file order. */
export const allReadmeBlocks = (): ReadmeBlock[] => readmeFiles().flatMap(readmeBlocks);

/** `file:line`, for messages. */
export const where = (block: ReadmeBlock): string => `${block.file}:${block.line}`;

/** A file name for a block: `packages-client-README.md-L12`. */
export const blockSlug = (block: ReadmeBlock): string =>
  `${relative('.', block.file).replace(/[/\\]/g, '-')}-L${block.line}`;

/**
 * The README examples of the SDK in a browser: `ts` blocks that import the browser entry and complete a
 * redirect sign-in. The Chromium test serves each as a page.
 */
export const browserSdkSnippets = (): ReadmeBlock[] =>
  allReadmeBlocks().filter(
    (block) =>
      block.lang === 'ts' &&
      /from '@gatehouse\/client'/.test(block.code) &&
      block.code.includes('handleRedirectCallback()'),
  );

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { currentSection, DOCUMENTS, REPO_DIR, readLatest, replaceSection } from '../report-docs.ts';

describe('generated performance tables', () => {
  it.each(Object.keys(DOCUMENTS) as (keyof typeof DOCUMENTS)[])(
    '%s shows exactly what the committed bench/results/latest.json renders (run `node bench/report-docs.ts`)',
    async (document) => {
      const result = await readLatest();
      const text = await readFile(join(REPO_DIR, document), 'utf8');
      expect(currentSection(text)).toBe(DOCUMENTS[document](result));
    },
  );

  it('keeps the prose around the markers when it rewrites a section', () => {
    const text = 'intro\n<!-- bench:start -->\nold table\n<!-- bench:end -->\nafter';
    const next = replaceSection(text, 'new table');
    expect(next).toBe('intro\n<!-- bench:start -->\nnew table\n<!-- bench:end -->\nafter');
    expect(currentSection(next)).toBe('new table');
    expect(replaceSection(next, 'new table')).toBe(next);
  });

  it('marks a missed target as missed', async () => {
    const result = await readLatest();
    const missed = {
      ...result,
      figures: [{ scenario: '1 x', name: 'y', value: 1, unit: 'ms', target: '>= 2', pass: false }],
    };
    expect(DOCUMENTS['docs/performance.md'](missed)).toContain('**missed**');
  });
});

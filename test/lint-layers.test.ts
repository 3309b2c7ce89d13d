/**
 * The linter enforces the layer directions (LAY-1..4): each case lints a one-line file placed in a
 * layer and expects `no-restricted-imports` to fire, or not.
 */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: process.cwd() });

async function restricted(filePath: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${source}\nexport const used = x;\n`, { filePath });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layer rules', () => {
  it.each([
    ['LAY-1', 'src-shared/domain/x.ts', "import x from 'node:fs';"],
    ['LAY-1', 'src-shared/domain/x.ts', "import x from 'fs';"],
    ['LAY-1', 'src-shared/domain/x.ts', "import x from 'electron';"],
    ['LAY-1', 'src-shared/domain/x.ts', "import x from 'better-sqlite3';"],
    ['LAY-1', 'src-shared/domain/x.ts', "import x from '../../src-server/index.js';"],
    ['LAY-2', 'src-renderer/x.tsx', "import x from 'node:path';"],
    ['LAY-2', 'src-renderer/x.tsx', "import x from '../src-main/core/terminal.js';"],
    ['LAY-2', 'src-renderer/x.tsx', "import x from '../src-server/index.js';"],
    ['LAY-3', 'src-server/x.ts', "import x from 'electron';"],
    ['LAY-3', 'src-server/x.ts', "import x from '../src-main/core/terminal.js';"],
    ['LAY-3', 'src-server/x.ts', "import x from '../src-renderer/App.js';"],
    ['LAY-4', 'src-main/core/x.ts', "import x from 'electron';"],
    ['LAY-4', 'src-main/core/x.ts', "import x from '../../src-server/index.js';"],
    ['LAY-4', 'src-main/electron/x.ts', "import x from '../../src-renderer/App.js';"],
  ])('%s rejects, in %s: %s', async (rule, file, source) => {
    const messages = await restricted(file, source);
    expect(messages.length, `${file}: ${source}`).toBe(1);
    expect(messages[0]).toContain(rule);
  });

  it.each([
    ['src-shared/domain/x.ts', "import x from 'zod';"],
    ['src-renderer/x.tsx', "import x from '../src-shared/domain/rules.js';"],
    ['src-server/x.ts', "import x from 'node:fs';"],
    ['src-server/x.ts', "import x from '../src-shared/domain/rules.js';"],
    ['src-main/core/x.ts', "import x from 'better-sqlite3';"],
    ['src-main/electron/x.ts', "import x from 'electron';"],
  ])('LAY-1..4 allow, in %s: %s', async (file, source) => {
    expect(await restricted(file, source)).toEqual([]);
  });
});

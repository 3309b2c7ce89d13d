/**
 * Vitest global setup: tests that start real server or terminal processes run the compiled
 * JavaScript in out/node (what ships), so compile it once before any test runs (incremental).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export default function setup(): void {
  const tsc = path.resolve('node_modules/typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.node.json'], { stdio: 'inherit' });
}

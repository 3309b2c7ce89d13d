/**
 * Playwright global setup: build what the browser tests run — the server and terminal core
 * (tsc → out/node) and the app (electron-vite → out/main, out/preload, out/renderer) — so
 * `npm run test:e2e` works on a clean clone after `npm ci`.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export default function globalSetup(): void {
  const root = path.resolve(import.meta.dirname, '..');
  const run = (script: string, args: string[]) => execFileSync(process.execPath, [path.join(root, script), ...args], { cwd: root, stdio: 'inherit' });
  run('node_modules/typescript/bin/tsc', ['-p', 'tsconfig.node.json']);
  run('node_modules/electron-vite/bin/electron-vite.js', ['build', '--logLevel', 'warn']);
}

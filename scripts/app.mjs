#!/usr/bin/env node
// `npm run app [-- options]`: the Electron kiosk app, built and started by `electron-vite preview`.
// First checks that Electron's binary is there (found the way electron-vite finds it:
// $ELECTRON_EXEC_PATH, else node_modules/electron/path.txt under node_modules/electron/dist/),
// without loading the electron package (which would try to download it); when it is missing, says
// in one line what is missing and what to do, and exits 1.
// The options (e.g. `--mode supervisor --server http://server:8080`, `--config FILE`) go to the app,
// after electron-vite's `--` (electron-vite would take `--mode` and `--config` as its own).
// SHOPFLOOR_APP_SKIP_BUILD=1 starts the existing out/ build (as the tests do).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const electronDir = path.join(root, 'node_modules', 'electron');
const ALTERNATIVE = 'or run `npm run terminal` for the browser-hosted kiosk, which needs no Electron';

/** Why the Electron binary cannot be run, or null when it is there. */
function missingElectron() {
  const override = process.env.ELECTRON_EXEC_PATH;
  if (override) {
    return fs.existsSync(override) ? null : `ELECTRON_EXEC_PATH is ${override}, which does not exist; point it at the Electron binary or unset it, ${ALTERNATIVE}`;
  }
  if (!fs.existsSync(path.join(electronDir, 'package.json'))) {
    return `the electron package is not installed (no ${path.relative(root, electronDir)}); run \`npm ci\` first, ${ALTERNATIVE}`;
  }
  const pathFile = path.join(electronDir, 'path.txt');
  const binary = fs.existsSync(pathFile) ? path.join(electronDir, 'dist', fs.readFileSync(pathFile, 'utf8').trim()) : null;
  if (binary && fs.existsSync(binary)) return null;
  return (
    `Electron's binary is not installed (${path.relative(root, binary ?? path.join(electronDir, 'dist'))} is missing); ` +
    `download it with \`node node_modules/electron/install.js\` (needs access to github.com), ${ALTERNATIVE}`
  );
}

const problem = missingElectron();
if (problem) {
  console.error(`npm run app: ${problem}.`);
  process.exit(1);
}

const appArgs = process.argv.slice(2);
const viteArgs = ['preview', ...(process.env.SHOPFLOOR_APP_SKIP_BUILD === '1' ? ['--skipBuild'] : []), ...(appArgs.length ? ['--', ...appArgs] : [])];
const child = spawn(process.execPath, [path.join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), ...viteArgs], {
  cwd: root,
  stdio: 'inherit',
});
// A Ctrl+C reaches electron-vite and Electron directly (same process group); pass on a signal sent to this script alone.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

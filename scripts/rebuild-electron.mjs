#!/usr/bin/env node
/**
 * `npm run rebuild:electron`: build better-sqlite3 for Electron's ABI into native/electron/,
 * leaving the Node build in node_modules alone (tests, the server and the browser-hosted terminal
 * keep using it). The Electron main process passes native/electron/better_sqlite3.node to
 * better-sqlite3 as `nativeBinding` when the file exists.
 *
 * How: copy node_modules/better-sqlite3's sources to a temp folder, then fetch a prebuilt binary
 * for this Electron version (prebuild-install) or, failing that, compile it against Electron's
 * headers (node-gyp --runtime=electron --target=<version> --dist-url=https://electronjs.org/headers).
 * Both need internet access (the prebuilt binary or the headers are downloaded), and node-gyp
 * needs a C++ toolchain (python3, make, g++).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));
const DIST_URL = 'https://electronjs.org/headers';

function fail(message) {
  console.error(`rebuild:electron: ${message}`);
  process.exit(1);
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    return fail(`cannot read ${path.relative(root, file)} (${e.message}); run \`npm ci\` first`);
  }
}

const electronVersion = readJson(path.join(root, 'node_modules', 'electron', 'package.json')).version;
const sqliteDir = path.join(root, 'node_modules', 'better-sqlite3');
const sqliteVersion = readJson(path.join(sqliteDir, 'package.json')).version;
const outDir = path.join(root, 'native', 'electron');
const arch = process.env.npm_config_arch || process.arch;

console.log(`rebuild:electron: better-sqlite3 ${sqliteVersion} for Electron ${electronVersion} (${process.platform}-${arch})`);

// A temp copy, so node_modules/better-sqlite3/build (the Node build) is never touched.
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'better-sqlite3-electron-'));
const src = path.join(work, 'better-sqlite3');
fs.cpSync(sqliteDir, src, { recursive: true, filter: (p) => !p.startsWith(path.join(sqliteDir, 'build')) });

// npm may carry a `nodedir` (Node's own headers) in its config: that would build for Node's ABI.
const env = { ...process.env };
for (const key of Object.keys(env)) if (/^npm_config_(nodedir|target|runtime|disturl|dist_url)$/i.test(key)) delete env[key];

function run(label, args) {
  console.log(`rebuild:electron: ${label}`);
  const r = spawnSync(process.execPath, args, { cwd: src, env, stdio: 'inherit' });
  return r.status === 0;
}

function tool(candidates) {
  for (const c of candidates) {
    if (!c) continue;
    try {
      if (fs.existsSync(c)) return c;
      return require.resolve(c);
    } catch {
      // try the next one
    }
  }
  return null;
}

const built = path.join(src, 'build', 'Release', 'better_sqlite3.node');
let ok = false;

const prebuild = tool(['prebuild-install/bin.js']);
if (prebuild) {
  ok = run('trying a prebuilt binary (prebuild-install)', [prebuild, '--runtime', 'electron', '--target', electronVersion, '--arch', arch, '--platform', process.platform]) && fs.existsSync(built);
}
if (!ok) {
  const nodeGyp = tool([
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    'node-gyp/bin/node-gyp.js',
  ]);
  if (!nodeGyp) fail('no prebuilt binary, and node-gyp was not found (it ships with npm; set npm_config_node_gyp to its bin/node-gyp.js)');
  ok =
    run('compiling against Electron headers (node-gyp)', [
      nodeGyp,
      'rebuild',
      '--release',
      '--runtime=electron',
      `--target=${electronVersion}`,
      `--arch=${arch}`,
      `--dist-url=${DIST_URL}`,
    ]) && fs.existsSync(built);
}
if (!ok) {
  fs.rmSync(work, { recursive: true, force: true });
  fail(`could not build better-sqlite3 for Electron ${electronVersion}; it needs internet access (${DIST_URL}) and python3, make and a C++ compiler`);
}

fs.mkdirSync(outDir, { recursive: true });
fs.copyFileSync(built, path.join(outDir, 'better_sqlite3.node'));
fs.writeFileSync(
  path.join(outDir, 'build-info.json'),
  `${JSON.stringify({ electron: electronVersion, betterSqlite3: sqliteVersion, platform: process.platform, arch, builtAt: new Date().toISOString() }, null, 2)}\n`,
);
fs.rmSync(work, { recursive: true, force: true });
console.log(`rebuild:electron: wrote ${path.relative(root, path.join(outDir, 'better_sqlite3.node'))}`);

#!/usr/bin/env node
// `npm start`: the product on its embedded defaults. Builds what is needed, seeds a demo plant
// (SQLite, in ./.data) the first time, starts the sync server (which serves the supervisors'
// overview) and one browser-hosted kiosk terminal enrolled with a demo terminal token, and prints
// where to go, which badges to scan and how a supervisor signs in.
// Ctrl+C stops both. Environment: SHOPFLOOR_DEMO_DIR (default ./.data), PORT (server, 8080),
// KIOSK_PORT (kiosk, 8081), HOST (127.0.0.1; use 0.0.0.0 to reach it from other machines).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const demoDir = path.resolve(process.env.SHOPFLOOR_DEMO_DIR ?? path.join(root, '.data'));
const serverDir = path.join(demoDir, 'server');
const port = Number(process.env.PORT ?? 8080);
const kioskPort = Number(process.env.KIOSK_PORT ?? 8081);
const host = process.env.HOST ?? '127.0.0.1';
const cli = path.join(root, 'out/node/src-server/cli.js');
const hostCli = path.join(root, 'out/node/src-main/core/host-cli.js');

function run(title, cmd, args) {
  console.log(`> ${title}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`"${title}" failed (exit ${r.status}); see above.`);
    process.exit(r.status ?? 1);
  }
}

run('building the server and terminal core', process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.node.json']);
run('building the kiosk screen and the supervisor overview', process.execPath, [path.join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build']);

const credentialsFile = path.join(serverDir, 'demo-credentials.json');
if (!fs.existsSync(path.join(serverDir, 'claims.db'))) {
  run('seeding the demo plant', process.execPath, [cli, 'seed-demo', '--data', serverDir]);
}
if (!fs.existsSync(credentialsFile)) {
  console.error(
    `The demo database in ${serverDir} exists but its credentials file was deleted, so no kiosk can be enrolled.\n` +
      `Remove ${demoDir} to start over with a fresh demo plant, or enroll a kiosk with: npm run server -- add-terminal --data ${serverDir} ...`,
  );
  process.exit(1);
}
const credentials = JSON.parse(fs.readFileSync(credentialsFile, 'utf8'));
const kiosk = credentials.terminals[0];

const children = [];
function start(name, args, readyMsg) {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, FORCE_COLOR: '0' } });
  children.push(child);
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`${name} stopped unexpectedly (${code ?? signal}); stopping the demo.`);
      stop(1);
    }
  });
  return new Promise((resolve) => {
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const entry = JSON.parse(line);
        if (entry.msg === readyMsg) resolve(entry.url);
        else if (entry.level >= 40) console.error(`[${name}] ${entry.msg}`);
      } catch {
        process.stdout.write(`[${name}] ${line}\n`);
      }
    });
  });
}

let stopping = false;
function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 3000).unref();
  Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null))).then(() => process.exit(code));
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

const serverUrl = await start('server', [cli, 'start', '--data', serverDir, '--port', String(port), '--host', host], 'sync server listening');
const kioskUrl = await start(
  'kiosk',
  [hostCli, '--server', serverUrl, '--terminal-id', kiosk.id, '--token', kiosk.token, '--data', path.join(demoDir, kiosk.id), '--port', String(kioskPort), '--host', host],
  'terminal listening',
);

const operators = credentials.operators.filter((o) => o.departmentIds.some((d) => kiosk.departments.includes(d))).slice(0, 6);
const supervisor = credentials.supervisors.find((s) => s.departmentIds.some((d) => kiosk.departments.includes(d))) ?? credentials.supervisors[0];
console.log(`
Shop-floor task claiming demo is running (data in ${demoDir}).

  Kiosk terminal "${kiosk.name}":  ${kioskUrl}
  Supervisor overview:  ${serverUrl}/supervisor/
    sign in as ${supervisor.id} / ${supervisor.password} (${supervisor.displayName}), or as ${credentials.admin.id} / ${credentials.admin.password} (all departments)
  Sync server (HTTP API, /metrics):  ${serverUrl}

Scan (type) one of these badges at the kiosk and press Enter:
${operators.map((o) => `  ${o.badge}  ${o.displayName}${o.pin ? `  (PIN ${o.pin})` : ''}`).join('\n')}

More badges, supervisor passwords and the admin API token: ${credentialsFile}
Press Ctrl+C to stop.`);

#!/usr/bin/env node
// `npm start`: the product on its embedded defaults. Builds what is needed, seeds a demo plant
// (SQLite, in ./.data) the first time, starts the sync server (which serves the supervisors'
// overview) and one browser-hosted kiosk terminal enrolled with a demo terminal token (passed in
// the environment, SHOPFLOOR_TERMINAL_TOKEN, never on a command line that `ps` shows), and prints
// where to go, a few badges to scan and how a supervisor signs in; everything else is in the
// demo's credentials file.
// Ctrl+C stops both: it reaches every process of the group, so each child starts its own clean
// shutdown and this script passes a SIGTERM on only to a child that did not (e.g. when this script
// alone was signalled). Exit code 0 when both stopped cleanly.
// Environment: SHOPFLOOR_DEMO_DIR (default ./.data), PORT (server, 8080), KIOSK_PORT (kiosk, 8081),
// HOST (127.0.0.1; use 0.0.0.0 to reach it from other machines), SHOPFLOOR_DEMO_SKIP_BUILD=1 (use
// the existing out/ build, as the tests do).
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
/** How long a child gets to say it is shutting down on its own (it got the group's signal) before it is sent one. */
const OWN_SIGNAL_WAIT_MS = 300;
/** How long the children get to stop cleanly before they are killed. */
const STOP_TIMEOUT_MS = 10_000;

function run(title, cmd, args) {
  console.log(`> ${title}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`"${title}" failed (exit ${r.status ?? r.signal}); see above.`);
    process.exit(r.status || 1);
  }
}

if (process.env.SHOPFLOOR_DEMO_SKIP_BUILD !== '1') {
  run('building the server and terminal core', process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.node.json']);
  run('building the kiosk screen and the supervisor overview', process.execPath, [
    path.join(root, 'node_modules/electron-vite/bin/electron-vite.js'),
    'build',
    '--logLevel',
    'warn',
  ]);
}

const credentialsFile = path.join(serverDir, 'demo-credentials.json');
if (!fs.existsSync(path.join(serverDir, 'claims.db'))) {
  run('seeding the demo plant (first run)', process.execPath, [cli, 'seed-demo', '--quiet', '--data', serverDir]);
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

/** name -> { child, shuttingDown } */
const children = new Map();
function start(name, args, readyMsg, env = {}) {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, FORCE_COLOR: '0', ...env } });
  const entry = { child, shuttingDown: false, exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))) };
  children.set(name, entry);
  entry.exited.then(({ code, signal }) => {
    if (!stopping) {
      console.error(`${name} stopped unexpectedly (${code ?? signal}); stopping the demo.`);
      stop('unexpected');
    }
  });
  return new Promise((resolve) => {
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      let log;
      try {
        log = JSON.parse(line);
      } catch {
        process.stdout.write(`[${name}] ${line}\n`);
        return;
      }
      if (log.msg === readyMsg) resolve(log.url);
      else if (log.msg === 'shutting down') entry.shuttingDown = true;
      else if (log.level >= 40) console.error(`[${name}] ${log.msg}`);
    });
  });
}

let stopping = false;
async function stop(reason) {
  if (stopping) return;
  stopping = true;
  // A Ctrl+C in the terminal window reached the children too: give them a moment to say so, and
  // signal only those that did not, so nobody gets a second signal ("stop now").
  if (reason !== 'unexpected') await new Promise((r) => setTimeout(r, OWN_SIGNAL_WAIT_MS));
  for (const { child, shuttingDown } of children.values()) {
    if (child.exitCode === null && child.signalCode === null && !shuttingDown) child.kill('SIGTERM');
  }
  const killer = setTimeout(() => {
    for (const [name, { child }] of children) {
      if (child.exitCode === null && child.signalCode === null) {
        console.error(`${name} did not stop within ${STOP_TIMEOUT_MS / 1000} s; killing it.`);
        child.kill('SIGKILL');
      }
    }
  }, STOP_TIMEOUT_MS);
  const results = await Promise.all([...children].map(async ([name, { exited }]) => ({ name, ...(await exited) })));
  clearTimeout(killer);
  if (reason === 'unexpected') process.exit(1);
  const unclean = results.filter((r) => r.code !== 0);
  if (unclean.length === 0) console.log('Demo stopped.');
  for (const r of unclean) console.error(`${r.name} did not stop cleanly (exit ${r.code ?? r.signal}).`);
  process.exit(unclean.length > 0 ? 1 : 0);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => void stop(signal));

async function main() {
  const serverUrl = await start('server', [cli, 'start', '--data', serverDir, '--port', String(port), '--host', host], 'sync server listening');
  if (stopping) return;
  const kioskUrl = await start(
    'kiosk',
    [hostCli, '--server', serverUrl, '--terminal-id', kiosk.id, '--data', path.join(demoDir, kiosk.id), '--port', String(kioskPort), '--host', host],
    'terminal listening',
    { SHOPFLOOR_TERMINAL_TOKEN: kiosk.token },
  );
  if (stopping) return;

  const operators = credentials.operators.filter((o) => o.departmentIds.some((d) => kiosk.departments.includes(d))).slice(0, 5);
  const supervisor = credentials.supervisors.find((s) => s.departmentIds.some((d) => kiosk.departments.includes(d))) ?? credentials.supervisors[0];
  console.log(`
Shop-floor task claiming demo is running (data in ${demoDir}).

  Kiosk terminal "${kiosk.name}":  ${kioskUrl}
  Supervisor overview:  ${serverUrl}/supervisor/
    sign in as ${supervisor.id} / ${supervisor.password} (${supervisor.displayName}), or as ${credentials.admin.id} / ${credentials.admin.password} (all departments)
  Sync server (HTTP API, /metrics):  ${serverUrl}

Scan (type) one of these badges at the kiosk and press Enter:
${operators.map((o) => `  ${o.badge}  ${o.displayName}${o.pin ? `  (PIN ${o.pin})` : ''}`).join('\n')}

Every other badge, PIN and password, and the admin API token: ${credentialsFile}
Press Ctrl+C to stop.`);
}

void main();

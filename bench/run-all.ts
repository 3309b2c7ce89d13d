/**
 * `npm run bench [-- name ...]`: run the benchmarks one after another (they would distort each
 * other's figures side by side) and print each one's JSON line and table.
 * Names: server-engine, ws-load, http-load, auth, terminal-tap, terminal-apply, catch-up, reconnect-storm, supervisor-board, kiosk-screen, pin-hash, abuse, junk-json, plant-load, plant-engine, snapshot, stall, auto-assign, pg-load, pg-commit.
 */
import * as abuse from './abuse.js';
import * as auth from './auth.js';
import * as junkJson from './junk-json.js';
import * as autoAssign from './auto-assign.js';
import * as catchUp from './catch-up.js';
import * as httpLoad from './http-load.js';
import * as kioskScreen from './kiosk-screen.js';
import * as pgCommit from './pg-commit.js';
import * as pgLoad from './pg-load.js';
import * as pinHash from './pin-hash.js';
import * as plantEngine from './plant-engine.js';
import * as plantLoad from './plant-load.js';
import * as reconnectStorm from './reconnect-storm.js';
import * as serverEngine from './server-engine.js';
import * as snapshot from './snapshot.js';
import * as stall from './stall.js';
import * as supervisorBoard from './supervisor-board.js';
import * as terminalApply from './terminal-apply.js';
import * as terminalTap from './terminal-tap.js';
import * as wsLoad from './ws-load.js';

const all: Record<string, () => Promise<void>> = {
  'server-engine': serverEngine.run,
  'ws-load': wsLoad.run,
  'http-load': httpLoad.run,
  auth: auth.run,
  'terminal-tap': terminalTap.run,
  'terminal-apply': terminalApply.run,
  'catch-up': catchUp.run,
  'reconnect-storm': reconnectStorm.run,
  'supervisor-board': supervisorBoard.run,
  'kiosk-screen': kioskScreen.run,
  'pin-hash': pinHash.run,
  abuse: abuse.run,
  'junk-json': junkJson.run,
  'plant-load': plantLoad.run,
  'plant-engine': plantEngine.run,
  snapshot: snapshot.run,
  stall: stall.run,
  'auto-assign': autoAssign.run,
  'pg-load': pgLoad.run,
  'pg-commit': pgCommit.run,
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !(w in all));
if (unknown.length) {
  console.error(`Unknown benchmark ${unknown.join(', ')}; choose from: ${Object.keys(all).join(', ')}`);
  process.exit(2);
}
for (const name of wanted.length ? wanted : Object.keys(all)) await all[name]!();

/**
 * Auto-assign on a plant's shape (issue 12): a supervisor's auto-assign of 1,000 tasks in a
 * department of 500 operators (bench/plant.ts: 4 departments, 50,000 tasks each), on an otherwise
 * idle server process, over HTTP, as the supervisor overview asks for it. Two rounds (the second
 * finds the operators holding the first round's tasks), each department once. With
 * BENCH_BASELINE_ROOT the same against earlier code, the two sides taking turns.
 */
import fs from 'node:fs';
import { baselineRoot, report, round, startServerProcess, tempDir } from './lib.js';
import { ADMIN_TOKEN, seedPlants } from './plant.js';

const ROUNDS = 2;
const LIMIT = 1000;

async function autoAssign(url: string, department: string): Promise<{ ms: number; assigned: number }> {
  const started = performance.now();
  const res = await fetch(`${url}/api/departments/${department}/auto-assign`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ strategy: 'hybrid', limit: LIMIT }),
  });
  const body = (await res.json()) as { assigned?: unknown[] };
  if (res.status !== 200) throw new Error(`auto-assign answered ${res.status}: ${JSON.stringify(body)}`);
  return { ms: performance.now() - started, assigned: body.assigned?.length ?? 0 };
}

export async function run(): Promise<void> {
  const dir = tempDir('auto-assign');
  const base = baselineRoot();
  try {
    const plants = await seedPlants(dir, base);
    const sides = [{ name: 'now', dir: plants.current.dir, root: undefined as string | undefined }];
    if (plants.baseline) sides.unshift({ name: 'before', dir: plants.baseline.dir, root: base! });
    const ms: Record<string, number[]> = { now: [], before: [] };
    let assigned = 0;
    for (let r = 0; r < ROUNDS; r++) {
      for (const side of sides) {
        const server = await startServerProcess(side.dir, side.root ? { root: side.root } : {});
        try {
          const a = await autoAssign(server.url, `d${r}`);
          ms[side.name]!.push(Math.round(a.ms));
          if (side.name === 'now') assigned += a.assigned;
        } finally {
          await server.stop();
        }
      }
    }
    const total = (list: number[]) => list.reduce((a, b) => a + b, 0);
    report({
      bench: `auto-assign: ${LIMIT.toLocaleString('en')} tasks to a department of 500 operators (plant of 200,000 tasks), idle server, ${ROUNDS} rounds`,
      figures: {
        msPerRun: ms.now!,
        assigned,
        ...(plants.baseline ? { baselineRoot: base, baselineMsPerRun: ms.before!, timeRatioToBaseline: round(total(ms.now!) / total(ms.before!), 2) } : {}),
      },
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();

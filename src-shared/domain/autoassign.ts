/**
 * Auto-assignment (AUTO-1..5): which eligible operator gets a pending task.
 * Pure: the server gathers the candidates inside its transaction and applies `decideAssign`.
 */
import { decideAssign, type AssignFacts, type Decision, type AssignResult } from './rules.js';
import { fail, type Result } from './result.js';

export const AUTO_ASSIGN_STRATEGIES = ['round_robin', 'least_loaded', 'performance_weighted', 'hybrid'] as const;
export type AutoAssignStrategy = (typeof AUTO_ASSIGN_STRATEGIES)[number];

export interface Candidate {
  userId: string;
  activeCount: number;
  limit: number;
  /** Quality score in [0, 1] kept per operator by the store (1 = best). */
  qualityScore: number;
}

export interface PickOptions {
  /** The operator the previous round-robin pick went to, for this department and step. */
  lastUserId: string | null;
  /** hybrid: weight of spare capacity against quality, in [0, 1]. */
  capacityWeight: number;
}

const byId = (a: Candidate, b: Candidate) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0);
const load = (c: Candidate) => (c.limit > 0 ? c.activeCount / c.limit : 1);

/**
 * AUTO-2..5: pick one of the (already eligible) candidates, or null if there are none.
 * - round_robin: the next operator after the last pick, in id order, wrapping around;
 * - least_loaded: the lowest share of their limit in use (then fewest tasks, then id);
 * - performance_weighted: the highest quality score (then lowest load, then id);
 * - hybrid: the highest `w * spare capacity + (1 - w) * quality` (then id).
 */
export function pickAssignee(strategy: AutoAssignStrategy, candidates: readonly Candidate[], options: PickOptions): string | null {
  if (candidates.length === 0) return null;
  const sorted = [...candidates].sort(byId);
  switch (strategy) {
    case 'round_robin': {
      const last = options.lastUserId;
      const next = last === null ? undefined : sorted.find((c) => c.userId > last);
      return (next ?? sorted[0]!).userId;
    }
    case 'least_loaded':
      return sorted.reduce((best, c) => {
        const d = load(c) - load(best);
        if (d !== 0) return d < 0 ? c : best;
        return c.activeCount < best.activeCount ? c : best;
      }).userId;
    case 'performance_weighted':
      return sorted.reduce((best, c) => {
        if (c.qualityScore !== best.qualityScore) return c.qualityScore > best.qualityScore ? c : best;
        return load(c) < load(best) ? c : best;
      }).userId;
    case 'hybrid': {
      const w = Math.min(1, Math.max(0, options.capacityWeight));
      const score = (c: Candidate) => w * (1 - load(c)) + (1 - w) * c.qualityScore;
      return sorted.reduce((best, c) => (score(c) > score(best) ? c : best)).userId;
    }
  }
}

/** AUTO-1: the target has every skill the task requires. */
export function hasRequiredSkills(skills: readonly string[], required: readonly string[]): boolean {
  return required.every((s) => skills.includes(s));
}

/**
 * AUTO-1: an operator is eligible for auto-assignment when a supervisor's explicit assign would
 * succeed, they are not in cooldown for the task, and they have the task's required skills.
 */
export function decideAutoAssign(facts: AssignFacts): Result<Decision<AssignResult>> {
  const target = facts.target;
  if (target.user && facts.task && !hasRequiredSkills(target.user.skills, facts.task.requiredSkills)) {
    return fail('no_eligible_operator', { taskId: facts.task.id, userId: target.user.id, problem: 'missing skills' });
  }
  if (target.cooldownUntil !== null && target.cooldownUntil > facts.now && facts.task) {
    return fail('cooldown_active', { taskId: facts.task.id, userId: target.user?.id, until: target.cooldownUntil });
  }
  // Called for every operator of a department for every task: no copy when the mode is already right.
  return decideAssign(facts.mode === 'assign' ? facts : { ...facts, mode: 'assign' });
}

/**
 * The rule oracle of the sync simulation (issue 11): an independent model of the rules, written
 * from docs/SPEC.md without calling src-shared/domain/rules.ts, that replays everything the server
 * committed (its audit trail, in commit order) and, for every decision, given the state before it,
 * must reach the same outcome (applied, or the same error code). It then applies the effect in its
 * own terms, so its state after the run must equal the server's. A rule the engine gets wrong
 * (a cooldown ignored, an exclusion one-way, a stale claim taken, an operator acting where another
 * is signed in) disagrees with the oracle on the first decision it touches.
 *
 * Rules modelled: PROTO-8 (presence), CLM-1..13, HLD-1, ACC-1, STA-1, CMP-1, REL-1, REJ-1, COOL-1,
 * CAP-1/2, XSTEP-1, ASG-1..5, RSG-1, EXP-1. Every audited action must be one of these: an action the
 * oracle does not know fails the run, so the simulation cannot grow past what it proves.
 */
import type { SiteConfig } from '../../src-shared/domain/config.js';

const MINUTE = 60_000;

export interface OracleUser {
  id: string;
  departments: string[];
  limit: number | null;
  roles: string[];
  active: boolean;
}

export interface OracleTask {
  id: string;
  workOrder: string;
  step: string;
  department: string | null;
  status: 'draft' | 'pending' | 'in_progress' | 'completed' | 'cancelled';
  holder: string | null;
  version: number;
}

interface OracleAssignment {
  task: string;
  user: string;
  workOrder: string;
  step: string;
  status: 'assigned' | 'accepted' | 'in_progress' | 'submitted' | 'released' | 'rejected' | 'expired' | 'reassigned';
  started: boolean;
  createdAt: number;
}

export interface AuditRow {
  id: number;
  at: number;
  action: string;
  outcome: string;
  actor_id: string | null;
  terminal_id: string | null;
  via: string;
  task_id: string | null;
  details: string;
}

const ACTIVE = new Set(['assigned', 'accepted', 'in_progress']);

export class RuleOracle {
  readonly tasks = new Map<string, OracleTask>();
  private readonly users = new Map<string, OracleUser>();
  private readonly assignments: OracleAssignment[] = [];
  private readonly cooldowns = new Map<string, number>();
  private readonly presence = new Map<string, string | null>();
  /** Decisions checked, by action and outcome (so a run can show what it proved). */
  readonly checked = new Map<string, number>();

  constructor(
    private readonly config: Pick<SiteConfig, 'defaultTaskLimit' | 'cooldownMinutes' | 'claimMaxAgeMinutes' | 'assignmentExpiryMinutes' | 'exclusionPairs'>,
    users: readonly OracleUser[],
    tasks: readonly OracleTask[],
    private readonly terminalDepartments: ReadonlyMap<string, readonly string[]>,
  ) {
    for (const u of users) this.users.set(u.id, u);
    for (const t of tasks) this.tasks.set(t.id, { ...t });
  }

  /** Replay the audit trail in commit order; throws at the first decision the oracle disagrees with. */
  replay(rows: readonly AuditRow[]): void {
    for (const row of rows) {
      const details = JSON.parse(row.details) as Record<string, unknown>;
      const expected = this.decide(row, details);
      const key = `${row.action}:${row.outcome}`;
      this.checked.set(key, (this.checked.get(key) ?? 0) + 1);
      if (expected.code !== row.outcome) {
        throw new Error(
          `rule oracle: audit #${row.id} ${row.action} of ${row.task_id ?? '-'} by ${row.actor_id ?? '-'} at ${row.terminal_id ?? row.via} ` +
            `was ${row.outcome}; the rules say ${expected.code}${expected.why ? ` (${expected.why})` : ''}`,
        );
      }
      if (expected.code === 'applied') {
        for (const [flag, value] of Object.entries(expected.flags ?? {})) {
          if (details[flag] !== value) throw new Error(`rule oracle: audit #${row.id} ${row.action} of ${row.task_id}: ${flag} was ${String(details[flag])}, the rules say ${String(value)}`);
        }
        expected.apply?.();
      }
    }
  }

  private limitOf(u: OracleUser): number {
    return u.limit ?? this.config.defaultTaskLimit;
  }

  private activeCount(userId: string): number {
    let n = 0;
    for (const t of this.tasks.values()) if (t.holder === userId && (t.status === 'pending' || t.status === 'in_progress')) n++;
    return n;
  }

  /** XSTEP-1: the step of the pair this person holds, held while started, or submitted on the work order. */
  private excludingStep(userId: string, task: OracleTask): string | null {
    const partners = this.config.exclusionPairs.flatMap(([a, b]) => (a === task.step ? [b] : b === task.step ? [a] : []));
    for (const a of this.assignments) {
      if (a.user !== userId || a.workOrder !== task.workOrder || !partners.includes(a.step)) continue;
      if (ACTIVE.has(a.status) || a.status === 'submitted' || a.started) return a.step;
    }
    return null;
  }

  private activeAssignment(taskId: string, userId: string): OracleAssignment {
    const a = this.assignments.find((x) => x.task === taskId && x.user === userId && ACTIVE.has(x.status));
    if (!a) throw new Error(`rule oracle: no active assignment of ${userId} on ${taskId} to update`);
    return a;
  }

  private decide(row: AuditRow, details: Record<string, unknown>): Decision {
    const at = row.at;
    const actor = row.actor_id ?? '';
    if (row.via === 'terminal') {
      const terminal = row.terminal_id!;
      if (row.action === 'signIn') return this.signIn(terminal, actor);
      if (row.action === 'signOut') {
        return { code: 'applied', apply: () => (this.presence.get(terminal) === actor ? this.presence.set(terminal, null) : undefined) };
      }
      // PROTO-8: a terminal acts only for the operator signed in at it.
      if (this.presence.get(terminal) !== actor) return { code: 'not_signed_in', why: `${this.presence.get(terminal) ?? 'nobody'} is signed in there` };
      return this.taskOperation(row.action, row.task_id!, actor, at, details);
    }
    if (row.action === 'expire') return this.expire(row.task_id!, String(details.userId), at);
    if (row.action === 'assign' || row.action === 'reassign') return this.assign(row.action, row.task_id!, actor, String(details.userId), at);
    return this.taskOperation(row.action, row.task_id!, actor, at, details);
  }

  private signIn(terminal: string, userId: string): Decision {
    const u = this.users.get(userId);
    if (!u) return { code: 'user_not_found' };
    if (!u.active) return { code: 'user_inactive' };
    const departments = this.terminalDepartments.get(terminal) ?? [];
    if (!u.departments.some((d) => departments.includes(d))) return { code: 'not_in_department' };
    return { code: 'applied', apply: () => this.presence.set(terminal, userId) };
  }

  /** CLM-10 for the one acting on their own behalf. */
  private operatorError(userId: string): string | null {
    const u = this.users.get(userId);
    if (!u) return 'user_not_found';
    if (!u.active) return 'user_inactive';
    if (!u.roles.includes('operator')) return 'permission_denied';
    return null;
  }

  private taskOperation(action: string, taskId: string, actor: string, at: number, details: Record<string, unknown>): Decision {
    switch (action) {
      case 'claim':
        return this.claim(taskId, actor, at, typeof details.madeAt === 'number' ? details.madeAt : null);
      case 'start':
      case 'complete':
      case 'release':
      case 'reject':
      case 'accept':
        return this.holderOperation(action, taskId, actor, at, typeof details.reason === 'string' ? details.reason : '');
      default:
        throw new Error(`rule oracle: it does not know the action "${action}" (teach it the rule before the simulation plays it)`);
    }
  }

  private claim(taskId: string, userId: string, at: number, madeAt: number | null): Decision {
    const t = this.tasks.get(taskId);
    if (!t) return { code: 'task_not_found' };
    const actorErr = this.operatorError(userId);
    if (actorErr) return { code: actorErr };
    // CLM-13: judged in server time (the audit records when the claim was made, in server time).
    if (madeAt !== null && at - madeAt > this.config.claimMaxAgeMinutes * MINUTE) return { code: 'claim_stale', why: `made ${Math.round((at - madeAt) / MINUTE)} min before` };
    if (t.department === null) return { code: 'task_no_department' };
    const u = this.users.get(userId)!;
    if (!u.departments.includes(t.department)) return { code: 'not_in_department' };
    if (t.status === 'draft' || t.status === 'completed' || t.status === 'cancelled') return { code: `task_${t.status}` };
    if (t.holder === userId) return { code: 'applied', flags: { alreadyClaimed: true } };
    if (t.holder !== null) return { code: 'task_conflict', why: `${t.holder} holds it` };
    const until = this.cooldowns.get(`${taskId}/${userId}`);
    if (until !== undefined && until > at) return { code: 'cooldown_active', why: `until ${Math.round((until - at) / 1000)} s later` };
    const excluding = this.excludingStep(userId, t);
    if (excluding) return { code: 'cross_step_excluded', why: `did ${excluding} on ${t.workOrder}` };
    if (this.activeCount(userId) >= this.limitOf(u)) return { code: 'capacity_reached', why: `${this.activeCount(userId)} of ${this.limitOf(u)}` };
    return {
      code: 'applied',
      flags: { alreadyClaimed: false },
      apply: () => {
        t.holder = userId;
        t.version++;
        this.assignments.push({ task: t.id, user: userId, workOrder: t.workOrder, step: t.step, status: 'accepted', started: false, createdAt: at });
      },
    };
  }

  private holderOperation(action: 'start' | 'complete' | 'release' | 'reject' | 'accept', taskId: string, userId: string, at: number, reason: string): Decision {
    if (action === 'reject') {
      const r = reason.trim();
      if (r.length === 0) return { code: 'reason_required' };
      if (r.length > 500) return { code: 'invalid_input' };
    }
    const t = this.tasks.get(taskId);
    if (!t) return { code: 'task_not_found' };
    const actorErr = this.operatorError(userId);
    if (actorErr) return { code: actorErr };
    // HLD-1
    if (t.status === 'cancelled') return { code: 'task_cancelled' };
    if (t.holder === null) return { code: t.status === 'completed' ? 'task_completed' : 'task_not_claimed' };
    if (t.holder !== userId) return { code: 'task_conflict', why: `${t.holder} holds it` };
    const mine = () => this.activeAssignment(taskId, userId);
    switch (action) {
      case 'accept': {
        if (t.status === 'completed') return { code: 'task_completed' };
        const a = this.assignments.find((x) => x.task === taskId && x.user === userId && ACTIVE.has(x.status));
        if (a?.status !== 'assigned') return { code: 'applied', flags: { alreadyAccepted: true } };
        return {
          code: 'applied',
          flags: { alreadyAccepted: false },
          apply: () => {
            a.status = 'accepted';
            t.version++;
          },
        };
      }
      case 'start':
        if (t.status === 'completed') return { code: 'task_completed' };
        if (t.status === 'in_progress') return { code: 'applied', flags: { alreadyStarted: true } };
        return {
          code: 'applied',
          flags: { alreadyStarted: false },
          apply: () => {
            const a = mine();
            a.status = 'in_progress';
            a.started = true;
            t.status = 'in_progress';
            t.version++;
          },
        };
      case 'complete':
        if (t.status === 'completed') return { code: 'applied', flags: { alreadyCompleted: true } };
        if (t.status !== 'in_progress') return { code: 'task_not_started' };
        return {
          code: 'applied',
          flags: { alreadyCompleted: false },
          apply: () => {
            mine().status = 'submitted';
            t.status = 'completed';
            t.version++;
          },
        };
      case 'release':
      case 'reject':
        if (t.status === 'completed') return { code: 'task_completed' };
        return {
          code: 'applied',
          apply: () => {
            mine().status = action === 'release' ? 'released' : 'rejected';
            t.holder = null;
            t.status = 'pending';
            t.version++;
            // COOL-1
            if (this.config.cooldownMinutes > 0) this.cooldowns.set(`${taskId}/${userId}`, at + this.config.cooldownMinutes * MINUTE);
          },
        };
    }
  }

  /** ASG-1..5, RSG-1: a supervisor (or admin) gives a task to an operator. */
  private assign(mode: 'assign' | 'reassign', taskId: string, actorId: string, targetId: string, at: number): Decision {
    const t = this.tasks.get(taskId);
    if (!t) return { code: 'task_not_found' };
    const actor = this.users.get(actorId);
    if (!actor) return { code: 'user_not_found' };
    if (!actor.active) return { code: 'user_inactive' };
    const admin = actor.roles.includes('admin');
    if (!admin && !actor.roles.includes('supervisor')) return { code: 'permission_denied' };
    if (t.department === null) return { code: 'task_no_department' };
    if (!admin && !actor.departments.includes(t.department)) return { code: 'permission_denied' };
    const target = this.users.get(targetId);
    if (!target) return { code: 'user_not_found' };
    if (!target.active) return { code: 'user_inactive' };
    if (!target.roles.includes('operator')) return { code: 'permission_denied' };
    if (!target.departments.includes(t.department)) return { code: 'not_in_department' };
    if (t.status === 'draft' || t.status === 'completed' || t.status === 'cancelled') return { code: `task_${t.status}` };
    if (t.holder === targetId) return { code: 'duplicate_assignment' };
    const previous = t.holder;
    if (previous !== null && mode === 'assign') return { code: 'task_conflict', why: `${previous} holds it` };
    if (previous === null && mode === 'reassign') return { code: 'task_not_claimed' };
    // COOL-1: an explicit assign overrides the cooldown; exclusion and capacity hold.
    const excluding = this.excludingStep(targetId, t);
    if (excluding) return { code: 'cross_step_excluded', why: `${targetId} did ${excluding} on ${t.workOrder}` };
    if (this.activeCount(targetId) >= this.limitOf(target)) return { code: 'capacity_reached', why: `${targetId} has ${this.activeCount(targetId)} of ${this.limitOf(target)}` };
    return {
      code: 'applied',
      apply: () => {
        if (previous !== null) this.activeAssignment(taskId, previous).status = 'reassigned';
        t.holder = targetId;
        t.status = 'pending';
        t.version++;
        this.assignments.push({ task: t.id, user: targetId, workOrder: t.workOrder, step: t.step, status: 'assigned', started: false, createdAt: at });
      },
    };
  }

  /** EXP-1: an unstarted assignment (assigned or accepted) of a pending task, older than the expiry. */
  private expire(taskId: string, userId: string, at: number): Decision {
    const t = this.tasks.get(taskId);
    const a = this.assignments.find((x) => x.task === taskId && x.user === userId && ACTIVE.has(x.status));
    if (!t || !a) return { code: 'not_due', why: 'no such assignment' };
    const due = this.config.assignmentExpiryMinutes > 0 && (a.status === 'assigned' || a.status === 'accepted') && !a.started && t.holder === userId && t.status === 'pending' && at >= a.createdAt + this.config.assignmentExpiryMinutes * MINUTE;
    if (!due) return { code: 'not_due', why: `${a.status}, made ${Math.round((at - a.createdAt) / MINUTE)} min before` };
    return {
      code: 'applied',
      apply: () => {
        a.status = 'expired';
        t.holder = null;
        t.version++;
      },
    };
  }
}

interface Decision {
  code: string;
  why?: string;
  /** Result flags the server must report for an applied decision (e.g. alreadyClaimed). */
  flags?: Record<string, boolean>;
  apply?: () => void;
}

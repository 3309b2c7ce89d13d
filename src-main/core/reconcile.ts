/**
 * How a terminal keeps its cache honest. The shared rules decide local operations against the
 * visible cache (pre-check and optimistic effect); server outcomes and change pages bring the
 * server's word of tasks. A task with nothing pending is shown as that word (one row); one with
 * outbox entries waiting keeps the word apart (its base) and is rebuilt as base + pending entries
 * replayed in order, so a pending claim never flickers back while fresh server state arrives.
 */
import type { SiteConfig } from '../../src-shared/domain/config.js';
import type { Result } from '../../src-shared/domain/result.js';
import {
  decideAccept,
  decideClaim,
  decideComplete,
  decideReject,
  decideRelease,
  decideStart,
  type Decision,
  type Effect,
} from '../../src-shared/domain/rules.js';
import { ACTIVE_ASSIGNMENT_STATUSES, type User } from '../../src-shared/domain/types.js';
import type { ChangesFrame, DirectoryUser, MutationOutcome, SyncTask, TerminalNotification } from '../../src-shared/protocol/terminal.js';
import type { ConflictRecord, OutboxEntry, TerminalStore } from './store.js';

export type TerminalOperation =
  | { name: 'claim' | 'accept' | 'start' | 'complete' | 'release'; taskId: string }
  | { name: 'reject'; taskId: string; reason: string };

export const TASK_OPERATIONS = ['claim', 'accept', 'start', 'complete', 'release', 'reject'] as const;

export function isTaskOperation(name: string): name is TerminalOperation['name'] {
  return (TASK_OPERATIONS as readonly string[]).includes(name);
}

export function directoryUserToUser(u: DirectoryUser | null): User | null {
  return u
    ? { id: u.id, displayName: u.displayName, roles: u.roles, departmentIds: u.departmentIds, active: u.active, taskLimit: u.taskLimit, skills: u.skills }
    : null;
}

/**
 * CAP-3: the operator's active tasks as the server counts them: those of this terminal's
 * departments from the visible cache (with pending local changes), those of every other department
 * from the directory (kept current by read sync).
 */
export function activeCountEverywhere(store: TerminalStore, userId: string, departments: readonly string[]): number {
  const elsewhere = Object.entries(store.user(userId)?.activeTasks ?? {})
    .filter(([d]) => !departments.includes(d))
    .reduce((sum, [, n]) => sum + n, 0);
  return store.activeCount(userId) + elsewhere;
}

export function taskLabel(t: SyncTask | null, taskId: string): string {
  return t ? `${t.workOrderNumber} · ${t.step} · ${t.workContent}` : taskId;
}

type AnyDecision = Result<Decision<Record<string, unknown>>>;

/** Decide an operation against the visible cache with the shared rules (the terminal's pre-check). */
export function decideLocal(
  store: TerminalStore,
  op: TerminalOperation,
  actorId: string,
  now: number,
  config: SiteConfig,
  departments: readonly string[],
): AnyDecision {
  const task = store.task(op.taskId);
  const user = directoryUserToUser(store.user(actorId));
  const base = {
    now,
    config,
    task,
    department: task?.departmentId ? store.department(task.departmentId) : null,
    owner: task?.operatorId ? { id: task.operatorId, name: task.operatorName ?? store.user(task.operatorId)?.displayName ?? task.operatorId } : null,
    holderAssignment: task?.assignment ? { status: task.assignment.status, assignedBy: task.assignment.assignedBy } : null,
    // What became of a rejected task is the server's to tell (NTF-3), not the cache's.
    rejection: null,
  };
  switch (op.name) {
    case 'claim':
      return decideClaim({
        ...base,
        queuedAt: null,
        operator: {
          user,
          userId: actorId,
          activeCount: activeCountEverywhere(store, actorId, departments),
          cooldownUntil: task?.cooldowns.find((c) => c.userId === actorId)?.until ?? null,
          workedSteps: task ? store.workedSteps(actorId, task.workOrderId) : [],
        },
      }) as AnyDecision;
    case 'accept':
      return decideAccept({ ...base, actor: user }) as AnyDecision;
    case 'start':
      return decideStart({ ...base, actor: user }) as AnyDecision;
    case 'complete':
      return decideComplete({ ...base, actor: user }) as AnyDecision;
    case 'release':
      return decideRelease({ ...base, actor: user }) as AnyDecision;
    case 'reject':
      return decideReject({ ...base, actor: user, reason: op.reason }) as AnyDecision;
  }
}

/** Apply rule effects to the visible cache (the optimistic effect). */
export function applyLocal(store: TerminalStore, before: SyncTask, effects: readonly Effect[], now: number): SyncTask {
  let t: SyncTask = { ...before, cooldowns: [...before.cooldowns], workedBy: [...before.workedBy] };
  for (const e of effects) {
    switch (e.kind) {
      case 'task':
        t = { ...t, operatorId: e.operatorId, operatorName: e.operatorName, status: e.status, version: e.version, updatedAt: now };
        if (e.operatorId === null) t.assignment = null;
        break;
      case 'assignment.open':
        if (!t.workedBy.includes(e.userId)) t.workedBy = [...t.workedBy, e.userId].sort();
        t.assignment = { status: e.status, assignedBy: e.assignedBy, assignedByName: store.user(e.assignedBy)?.displayName ?? null, at: now };
        break;
      case 'assignment.update':
        // A hold given back before it was ever started does not count as having worked on it (XSTEP-1).
        if (!ACTIVE_ASSIGNMENT_STATUSES.includes(e.status) && e.status !== 'submitted' && before.status === 'pending') {
          t.workedBy = t.workedBy.filter((u) => u !== e.userId);
        }
        if (e.status === 'assigned' || e.status === 'accepted' || e.status === 'in_progress') {
          t.assignment = t.assignment ? { ...t.assignment, status: e.status } : null;
        } else {
          t.assignment = null;
        }
        if (e.status === 'rejected') {
          t.lastRejection = { userId: e.userId, userName: store.user(e.userId)?.displayName ?? e.userId, reason: e.reason ?? '', at: now };
        }
        break;
      case 'cooldown':
        t.cooldowns = [...t.cooldowns.filter((c) => c.userId !== e.userId), { userId: e.userId, until: e.until }];
        break;
      case 'notify':
        break;
    }
  }
  // The shown row is the server's word until a local change is shown on it: keep that apart first.
  store.keepBase(t.id);
  store.writeTask(t);
  return t;
}

export function operationOf(entry: OutboxEntry): TerminalOperation | null {
  if (!isTaskOperation(entry.name) || !entry.taskId) return null;
  return entry.name === 'reject'
    ? { name: 'reject', taskId: entry.taskId, reason: String(entry.args.reason ?? '') }
    : { name: entry.name, taskId: entry.taskId };
}

/**
 * Rebuild the visible state of these tasks: the server's word, then pending outbox entries replayed
 * in order. A task with no entry left is shown as the server's word, which needs no separate base.
 */
export function rebuildVisible(store: TerminalStore, taskIds: Iterable<string>, now: number, config: SiteConfig, departments: readonly string[]): void {
  for (const id of taskIds) {
    const entries = store.outboxForTask(id);
    if (entries.length === 0) {
      store.settleTask(id);
      continue;
    }
    const base = store.baseTask(id);
    if (!base) {
      store.deleteTask(id);
      continue;
    }
    store.keepBase(id);
    store.writeTask(base);
    for (const entry of entries) {
      const op = operationOf(entry);
      if (!op) continue;
      const d = decideLocal(store, op, entry.operatorId, now, config, departments);
      if (d.ok) applyLocal(store, store.task(id)!, d.value.effects, now);
    }
  }
}

export interface OutcomeEffect {
  entry: OutboxEntry | null;
  conflict: ConflictRecord | null;
  changedTaskIds: string[];
  /** A sign-in the server refused was the session on screen: it ended it (the terminal says why). */
  endedSession: boolean;
  /**
   * PROTO-5: the outcome is about another task than the outbox entry of its id: it answers another
   * database's mutation under this terminal id (a restored or cloned database), not this entry,
   * which is left in the outbox untouched.
   */
  foreign?: OutboxEntry;
}

/**
 * Store one server outcome: the outbox entry is done, the server's word of its task taken (and the
 * task shown as that word once no entry waits for it), a rejection recorded (with
 * whether it had waited offline: made offline, or made before the connection it is answered on).
 */
export function applyOutcome(
  store: TerminalStore,
  outcome: Extract<MutationOutcome, { status: 'applied' | 'rejected' }>,
  departments: readonly string[],
  now: number,
  config: SiteConfig,
  connectedSince: number | null,
): OutcomeEffect {
  return store.tx(() => {
    const entry = store.outboxEntry(outcome.id);
    if (!entry) return { entry: null, conflict: null, changedTaskIds: [], endedSession: false };
    // The server's answer carries the task its mutation was about (null for none, or a task gone).
    if (outcome.task && outcome.task.id !== entry.taskId) return { entry: null, conflict: null, changedTaskIds: [], endedSession: false, foreign: entry };
    store.recordOutcome({
      mutationId: outcome.id,
      name: entry.name,
      taskId: entry.taskId,
      operatorId: entry.operatorId,
      status: outcome.status,
      result: outcome.status === 'applied' ? outcome.value : outcome.error,
      receivedLocal: now,
    });
    store.deleteOutbox(outcome.id);
    const changed = new Set<string>();
    if (entry.taskId) changed.add(entry.taskId);
    if (outcome.task) {
      acceptTask(store, outcome.task, departments, null, store.hasBaseRow(outcome.task.id));
      changed.add(outcome.task.id);
    }
    let conflict: ConflictRecord | null = null;
    if (outcome.status === 'rejected' && entry.taskId && isTaskOperation(entry.name)) {
      conflict = store.addConflict({
        mutationId: outcome.id,
        operation: entry.name,
        taskId: entry.taskId,
        operatorId: entry.operatorId,
        code: outcome.error.code,
        error: outcome.error,
        taskLabel: taskLabel(outcome.task ?? store.baseTask(entry.taskId), entry.taskId),
        createdLocal: now,
        offline: waitedOffline(entry, connectedSince),
      });
    }
    // NTF-2: a read mark the server refused is taken back, so the kiosk shows what the server has.
    if (outcome.status === 'rejected' && entry.name === 'readNotifications' && Array.isArray(entry.args.ids)) {
      store.unmarkNotificationsRead(entry.args.ids.filter((x): x is number => typeof x === 'number'));
    }
    let endedSession = false;
    if (outcome.status === 'rejected' && entry.name === 'signIn') {
      if (store.session()?.userId === entry.operatorId) {
        store.setSession(null);
        endedSession = true;
      }
    }
    rebuildVisible(store, changed, now, config, departments);
    return { entry, conflict, changedTaskIds: [...changed], endedSession };
  });
}

/**
 * Take a task from the server as its word, unless the terminal already has a newer version
 * (`pending`: outbox entries wait for it, so its base row takes it). Returns false if it left this
 * terminal's departments (it is then gone).
 */
function acceptTask(store: TerminalStore, t: SyncTask, departments: readonly string[], mark: number | null, pending: boolean): boolean {
  if (!t.departmentId || !departments.includes(t.departmentId)) {
    store.forgetTask(t.id, t.version);
    return false;
  }
  store.acceptServerWord(t, mark, pending);
  return true;
}

/** KIO-5: an outbox entry waited offline if it was made offline or before the current connection began. */
export function waitedOffline(entry: Pick<OutboxEntry, 'offline' | 'createdLocal'>, connectedSince: number | null): boolean {
  return entry.offline || connectedSince === null || entry.createdLocal < connectedSince;
}

/**
 * Apply one change page in one transaction; returns the ids of tasks whose view changed.
 * Notifications new to this terminal are added to `fresh` (the screen announces them).
 */
export function applyChanges(
  store: TerminalStore,
  page: ChangesFrame,
  departments: readonly string[],
  now: number,
  fallbackConfig: SiteConfig,
  fresh: TerminalNotification[] = [],
): string[] {
  return store.tx(() => {
    let mark: number | null = null;
    if (page.mode === 'snapshot') {
      // A fresh mark every time, also after an interrupted snapshot, so its leftovers are dropped too.
      if (page.reset) store.setMeta('pendingSnapshotMark', Math.max(store.meta<number>('snapshotMark', 0), store.meta<number>('pendingSnapshotMark', 0)) + 1);
      mark = store.meta<number>('pendingSnapshotMark', 1);
    }
    if (page.config) store.setMeta('config', page.config);
    const config = page.config ?? store.meta<SiteConfig>('config', fallbackConfig);
    for (const d of page.departments) store.upsertDepartment(d, mark);
    for (const u of page.users) {
      if (u.departmentIds.some((d) => departments.includes(d))) store.upsertUser(u, mark);
      else store.deleteUser(u.id);
    }
    for (const n of page.notifications) if (store.upsertNotification(n, mark) && n.readAt === null) fresh.push(n);
    const changed: string[] = [];
    // Issue 12: a task with nothing pending is written once, as shown; one with outbox entries
    // waiting takes the server's word into its base row and is rebuilt (base + pending replay).
    const pending = store.pendingTaskIds();
    const rebuild = new Set<string>();
    for (const t of page.tasks) {
      const waiting = pending.has(t.id);
      acceptTask(store, t, departments, mark, waiting);
      changed.push(t.id);
      if (waiting) rebuild.add(t.id);
    }
    if (page.cursor !== null) {
      if (page.mode === 'snapshot' && mark !== null) {
        for (const id of store.dropUnmarked(mark)) {
          changed.push(id);
          rebuild.add(id);
        }
        store.setMeta('snapshotMark', mark);
      }
      store.setMeta('cursor', page.cursor);
    }
    rebuildVisible(store, rebuild, now, config, departments);
    return changed;
  });
}

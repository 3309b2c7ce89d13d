/**
 * A test double of the API boundary for store tests: a TerminalClient with in-memory state that
 * answers like the core (errors as DomainErrors) and lets a test emit events and count calls.
 * It is not the terminal's logic: the real rules run in the core and are tested there.
 */
import { DomainError } from '../../src-shared/domain/errors.js';
import type {
  ClaimableFilters,
  ConflictView,
  MyWork,
  NotificationView,
  OperationAck,
  ScanResult,
  SessionInfo,
  SyncStatus,
  TaskPage,
  TaskView,
  TerminalEvent,
  TerminalSnapshot,
  Workload,
} from '../../src-shared/terminal-api.js';
import type { TerminalClient } from '../api/client.js';

export function taskView(id: string, over: Partial<TaskView> = {}): TaskView {
  return {
    id,
    workOrderId: 'wo1',
    workOrderNumber: 'WO-1',
    step: 'cut',
    workContent: `Cut ${id}`,
    departmentId: 'cut',
    status: 'pending',
    operatorId: null,
    operatorName: null,
    priority: 0,
    dueAt: null,
    requiredSkills: [],
    version: 1,
    createdAt: 0,
    updatedAt: 0,
    pending: false,
    assignment: null,
    lastRejection: null,
    overdue: false,
    ...over,
  };
}

export function notificationView(id: number, userId: string, over: Partial<NotificationView> = {}): NotificationView {
  return {
    id,
    userId,
    event: 'task_assigned',
    taskId: 't1',
    taskLabel: 'WO-1 · cut · Cut t1',
    byUserId: 'sue',
    byName: 'Sue',
    details: {},
    createdAt: 0,
    readAt: null,
    read: false,
    ...over,
  };
}

export const SYNC_ONLINE: SyncStatus = { status: 'online', pending: 0, lastSyncAt: 1000, lastError: null, nextAttemptAt: null };

export class FakeClient implements TerminalClient {
  readonly transport = 'electron' as const;
  calls: Array<{ method: string; input: unknown }> = [];
  free: TaskView[] = [];
  mine: TaskView[] = [];
  conflicts: ConflictView[] = [];
  notifications: NotificationView[] = [];
  workload: Workload | null = { active: 0, limits: { cut: 10 }, limit: 10 };
  /** What findByCode answers, by code (anything else is a badge). */
  codes: Record<string, ScanResult> = {};
  /** The badge of the signed-in operator (findByCode says `self`). */
  ownBadge: string | null = null;
  session: SessionInfo | null = null;
  users: Record<string, { name: string; pin?: string }> = { B1: { name: 'Ann' }, B2: { name: 'Bob', pin: '1234' } };
  /** Make the next call of this method fail with this error. */
  failNext = new Map<string, DomainError>();
  private listeners = new Set<(e: TerminalEvent) => void>();
  private links = new Set<(up: boolean) => void>();

  emit(e: TerminalEvent): void {
    for (const l of this.listeners) l(e);
  }
  setLink(up: boolean): void {
    for (const l of this.links) l(up);
  }
  count(method: string): number {
    return this.calls.filter((c) => c.method === method).length;
  }

  private async call<T>(method: string, input: unknown, fn: () => T): Promise<T> {
    this.calls.push({ method, input });
    await Promise.resolve();
    const failure = this.failNext.get(method);
    if (failure) {
      this.failNext.delete(method);
      throw failure;
    }
    return fn();
  }

  subscribe(listener: (e: TerminalEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  onLink(listener: (up: boolean) => void): () => void {
    this.links.add(listener);
    return () => this.links.delete(listener);
  }
  close(): void {}

  getSnapshot(): Promise<TerminalSnapshot> {
    return this.call('getSnapshot', undefined, () => ({
      identity: { terminalId: 'k1', name: 'Kiosk 1', serverUrl: 'http://s', departments: [] },
      sync: SYNC_ONLINE,
      session: this.session,
      openConflicts: this.conflicts.length,
      config: null,
      idleTimeoutSeconds: 60,
      locale: 'en',
    }));
  }
  signIn(input: { badge: string; pin?: string }): Promise<SessionInfo> {
    return this.call('signIn', input, () => {
      const u = this.users[input.badge];
      if (!u) throw new DomainError('sign_in_failed', { reason: 'unknown_badge' });
      if (u.pin && !input.pin) throw new DomainError('sign_in_failed', { reason: 'pin_required', userName: u.name });
      if (u.pin && input.pin !== u.pin) throw new DomainError('sign_in_failed', { reason: 'wrong_pin', attemptsLeft: 4 });
      const session: SessionInfo = { userId: u.name.toLowerCase(), displayName: u.name, roles: ['operator'], departmentIds: ['cut'], signedInAt: 0, lookOnly: false };
      this.session = session;
      this.ownBadge = input.badge;
      return session;
    });
  }
  signOut(): Promise<void> {
    return this.call('signOut', undefined, () => {
      this.session = null;
    });
  }
  listClaimable(input: { offset?: number; limit?: number } & ClaimableFilters): Promise<TaskPage> {
    return this.call('listClaimable', input, () => {
      if (!this.session) throw new DomainError('not_signed_in', {});
      const offset = input.offset ?? 0;
      const limit = input.limit ?? 50;
      const list = this.free.filter(
        (t) =>
          (!input.workOrder || t.workOrderNumber === input.workOrder) &&
          (!input.step || t.step === input.step) &&
          (!input.search || `${t.id} ${t.workContent}`.includes(input.search)),
      );
      return {
        items: list.slice(offset, offset + limit),
        total: list.length,
        offset,
        limit,
        facets: { all: this.free.length, overdue: 0, highPriority: 0, steps: [] },
      };
    });
  }
  listMine(): Promise<MyWork> {
    return this.call('listMine', undefined, () => {
      if (!this.session) throw new DomainError('not_signed_in', {});
      return { tasks: this.mine, workload: this.workload };
    });
  }
  findByCode(input: { code: string }): Promise<ScanResult> {
    return this.call('findByCode', input, () => this.codes[input.code] ?? { kind: 'badge', self: input.code === this.ownBadge });
  }
  accept({ taskId }: { taskId: string }) {
    return this.op('accept', taskId, () => undefined);
  }
  listNotifications(): Promise<NotificationView[]> {
    return this.call('listNotifications', undefined, () => this.notifications);
  }
  markNotificationsRead(input: { ids?: number[] }): Promise<void> {
    return this.call('markNotificationsRead', input, () => {
      this.notifications = this.notifications.map((n) => (!input.ids || input.ids.includes(n.id) ? { ...n, read: true } : n));
    });
  }
  private op(method: string, taskId: string, effect: () => void): Promise<OperationAck> {
    return this.call(method, { taskId }, () => {
      effect();
      // Like the core: a queued change is announced before the call is answered.
      this.emit({ type: 'tasks' });
      return { result: 'queued' as const, task: null };
    });
  }
  claim({ taskId }: { taskId: string }) {
    return this.op('claim', taskId, () => {
      const t = this.free.find((x) => x.id === taskId);
      if (!t) throw new DomainError('task_not_found', { taskId });
      this.free = this.free.filter((x) => x !== t);
      this.mine = [...this.mine, { ...t, operatorId: this.session!.userId, pending: true }];
    });
  }
  start({ taskId }: { taskId: string }) {
    return this.op('start', taskId, () => undefined);
  }
  complete({ taskId }: { taskId: string }) {
    return this.op('complete', taskId, () => undefined);
  }
  release({ taskId }: { taskId: string }) {
    return this.op('release', taskId, () => undefined);
  }
  reject({ taskId, reason }: { taskId: string; reason: string }) {
    return this.op('reject', taskId, () => {
      if (!reason.trim()) throw new DomainError('reason_required', { taskId });
    });
  }
  listConflicts(): Promise<ConflictView[]> {
    return this.call('listConflicts', undefined, () => this.conflicts);
  }
  acknowledgeConflict(input: { id: number }): Promise<void> {
    return this.call('acknowledgeConflict', input, () => {
      this.conflicts = this.conflicts.filter((c) => c.id !== input.id);
    });
  }
  enroll(input: { serverUrl: string; terminalId: string; token: string }) {
    return this.call('enroll', input, () => ({ terminalId: input.terminalId, name: null, serverUrl: input.serverUrl, departments: [] }));
  }
  setLocale(input: { locale: 'en' | 'zh' }): Promise<void> {
    return this.call('setLocale', input, () => undefined);
  }
  touch(): Promise<void> {
    return this.call('touch', undefined, () => undefined);
  }
}

export function conflictView(id: number, operatorId: string, over: Partial<ConflictView> = {}): ConflictView {
  return {
    id,
    mutationId: id,
    operation: 'claim',
    taskId: 't1',
    taskLabel: 'WO-1 · cut · Cut t1',
    operatorId,
    error: new DomainError('task_conflict', { taskId: 't1', currentOwner: { id: 'bob', name: 'Bob' } }).toData('en'),
    currentOwner: { id: 'bob', name: 'Bob' },
    createdAt: 0,
    offline: true,
    ...over,
  };
}

/** Let pending promise callbacks run. */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

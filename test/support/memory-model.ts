/**
 * A tiny in-memory store that reads facts for the shared rules and applies their effects.
 * Tests use it to drive the rules through long random sequences; it is not product code.
 */
import { DEFAULT_SITE_CONFIG, type SiteConfig } from '../../src-shared/domain/config.js';
import type { DomainError } from '../../src-shared/domain/errors.js';
import {
  decideAssign,
  decideClaim,
  decideComplete,
  decideExpire,
  decideReject,
  decideRelease,
  decideStart,
  type Effect,
  type OperatorFacts,
} from '../../src-shared/domain/rules.js';
import {
  isActiveAssignmentStatus,
  isActiveTaskStatus,
  type Assignment,
  type Department,
  type Task,
  type User,
} from '../../src-shared/domain/types.js';

export interface ModelState {
  config: SiteConfig;
  departments: Map<string, Department>;
  users: Map<string, User>;
  tasks: Map<string, Task>;
  assignments: Assignment[];
  cooldowns: Map<string, number>;
  notifications: Array<{ userId: string; event: string; taskId: string }>;
}

export function makeUser(id: string, over: Partial<User> = {}): User {
  return {
    id,
    displayName: `Name ${id}`,
    roles: ['operator'],
    departmentIds: ['d1'],
    active: true,
    taskLimit: null,
    skills: [],
    ...over,
  };
}

export function makeTask(id: string, over: Partial<Task> = {}): Task {
  return {
    id,
    workOrderId: 'wo1',
    workOrderNumber: 'WO-1',
    step: 'cut',
    workContent: `Work ${id}`,
    departmentId: 'd1',
    status: 'pending',
    operatorId: null,
    operatorName: null,
    priority: 0,
    dueAt: null,
    requiredSkills: [],
    version: 1,
    createdAt: 0,
    updatedAt: 0,
    ...over,
  };
}

export class MemoryModel implements ModelState {
  config: SiteConfig;
  departments = new Map<string, Department>();
  users = new Map<string, User>();
  tasks = new Map<string, Task>();
  assignments: Assignment[] = [];
  cooldowns = new Map<string, number>();
  notifications: Array<{ userId: string; event: string; taskId: string }> = [];
  private nextAssignment = 1;

  constructor(config: Partial<SiteConfig> = {}) {
    this.config = { ...DEFAULT_SITE_CONFIG, ...config };
    this.departments.set('d1', { id: 'd1', name: 'Cutting', taskLimit: null });
  }

  addUser(user: User): this {
    this.users.set(user.id, user);
    return this;
  }

  addTask(task: Task): this {
    this.tasks.set(task.id, task);
    return this;
  }

  activeCount(userId: string): number {
    let n = 0;
    for (const t of this.tasks.values()) if (t.operatorId === userId && isActiveTaskStatus(t.status)) n++;
    return n;
  }

  workedSteps(userId: string, workOrderId: string): string[] {
    return this.assignments
      .filter(
        (a) =>
          a.userId === userId &&
          this.tasks.get(a.taskId)?.workOrderId === workOrderId &&
          (isActiveAssignmentStatus(a.status) || a.status === 'submitted' || a.startedAt !== null),
      )
      .map((a) => a.step);
  }

  operatorFacts(userId: string, taskId: string): OperatorFacts {
    const task = this.tasks.get(taskId);
    return {
      user: this.users.get(userId) ?? null,
      userId,
      activeCount: this.activeCount(userId),
      cooldownUntil: this.cooldowns.get(`${taskId}/${userId}`) ?? null,
      workedSteps: task ? this.workedSteps(userId, task.workOrderId) : [],
    };
  }

  base(taskId: string, now: number) {
    const task = this.tasks.get(taskId) ?? null;
    const owner = task?.operatorId ? this.users.get(task.operatorId) : undefined;
    return {
      now,
      config: this.config,
      task,
      department: task?.departmentId ? this.departments.get(task.departmentId) ?? null : null,
      owner: owner ? { id: owner.id, name: owner.displayName } : null,
    };
  }

  claim(userId: string, taskId: string, now = 0, queuedAt: number | null = null) {
    return this.run(decideClaim({ ...this.base(taskId, now), operator: this.operatorFacts(userId, taskId), queuedAt }), now);
  }

  start(userId: string, taskId: string, now = 0) {
    return this.run(decideStart({ ...this.base(taskId, now), actor: this.users.get(userId) ?? null }), now);
  }

  complete(userId: string, taskId: string, now = 0) {
    return this.run(decideComplete({ ...this.base(taskId, now), actor: this.users.get(userId) ?? null }), now);
  }

  release(userId: string, taskId: string, now = 0) {
    return this.run(decideRelease({ ...this.base(taskId, now), actor: this.users.get(userId) ?? null }), now);
  }

  reject(userId: string, taskId: string, reason: string, now = 0) {
    return this.run(decideReject({ ...this.base(taskId, now), actor: this.users.get(userId) ?? null, reason }), now);
  }

  assign(actorId: string, targetId: string, taskId: string, mode: 'assign' | 'reassign' = 'assign', now = 0) {
    return this.run(
      decideAssign({
        ...this.base(taskId, now),
        actor: this.users.get(actorId) ?? null,
        target: this.operatorFacts(targetId, taskId),
        mode,
      }),
      now,
    );
  }

  expireAll(now: number): number {
    let n = 0;
    for (const a of [...this.assignments]) {
      const task = this.tasks.get(a.taskId);
      if (!task) continue;
      const d = decideExpire({ now, config: this.config, task, assignment: a });
      if (d) {
        this.apply(d.effects, now);
        n++;
      }
    }
    return n;
  }

  run<R>(result: { ok: true; value: { effects: Effect[]; result: R } } | { ok: false; error: DomainError }, now: number) {
    if (result.ok) this.apply(result.value.effects, now);
    return result;
  }

  apply(effects: Effect[], now: number): void {
    for (const e of effects) {
      switch (e.kind) {
        case 'task': {
          const t = this.tasks.get(e.taskId)!;
          this.tasks.set(e.taskId, { ...t, operatorId: e.operatorId, operatorName: e.operatorName, status: e.status, version: e.version, updatedAt: now });
          break;
        }
        case 'assignment.open':
          this.assignments.push({
            id: String(this.nextAssignment++),
            taskId: e.taskId,
            userId: e.userId,
            step: e.step,
            status: e.status,
            reason: null,
            assignedBy: e.assignedBy,
            createdAt: now,
            startedAt: null,
            endedAt: null,
          });
          break;
        case 'assignment.update': {
          const a = this.assignments.find((x) => x.taskId === e.taskId && x.userId === e.userId && isActiveAssignmentStatus(x.status));
          if (!a) throw new Error(`no active assignment for ${e.userId} on ${e.taskId}`);
          a.status = e.status;
          a.reason = e.reason;
          if (e.status === 'in_progress') a.startedAt = now;
          if (!isActiveAssignmentStatus(e.status)) a.endedAt = now;
          break;
        }
        case 'cooldown':
          this.cooldowns.set(`${e.taskId}/${e.userId}`, e.until);
          break;
        case 'notify':
          this.notifications.push({ userId: e.userId, event: e.event, taskId: e.taskId });
          break;
      }
    }
  }
}

/**
 * The domain entities of MISSION.md. Plain data: no classes, no I/O.
 * Times are epoch milliseconds (server clock unless a field says otherwise).
 */

export const ROLES = ['operator', 'supervisor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const TASK_STATUSES = ['draft', 'pending', 'in_progress', 'completed', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** Statuses in which a task counts against its holder's capacity (CAP-2). */
export const ACTIVE_TASK_STATUSES: readonly TaskStatus[] = ['pending', 'in_progress'];

export const ASSIGNMENT_STATUSES = [
  'assigned',
  'accepted',
  'in_progress',
  'submitted',
  'released',
  'rejected',
  'expired',
  'reassigned',
] as const;
export type AssignmentStatus = (typeof ASSIGNMENT_STATUSES)[number];

/** An assignment in one of these statuses is "active": its user holds the task. */
export const ACTIVE_ASSIGNMENT_STATUSES: readonly AssignmentStatus[] = ['assigned', 'accepted', 'in_progress'];

export interface Department {
  id: string;
  name: string;
  /** Capacity override for operators of this department (CAP-1); null = site default. */
  taskLimit: number | null;
}

export interface UserRef {
  id: string;
  name: string;
}

export interface User {
  id: string;
  displayName: string;
  roles: Role[];
  departmentIds: string[];
  active: boolean;
  /** Capacity override for this operator (CAP-1); null = department or site default. */
  taskLimit: number | null;
  skills: string[];
}

export interface Task {
  id: string;
  workOrderId: string;
  /** Human work-order number, e.g. "WO-2026-0042". */
  workOrderNumber: string;
  /** Process step code, e.g. "cut", "make", "inspect". */
  step: string;
  workContent: string;
  departmentId: string | null;
  status: TaskStatus;
  /** The operator who holds the task; null when it is in the pool. */
  operatorId: string | null;
  operatorName: string | null;
  /** Higher is more urgent. */
  priority: number;
  dueAt: number | null;
  requiredSkills: string[];
  version: number;
  createdAt: number;
  updatedAt: number;
}

export interface Assignment {
  id: string;
  taskId: string;
  userId: string;
  step: string;
  status: AssignmentStatus;
  /** Reason given when rejected. */
  reason: string | null;
  /** Who created it: the operator themself (claim) or a supervisor (assign). */
  assignedBy: string;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
}

export function isActiveTaskStatus(status: TaskStatus): boolean {
  return ACTIVE_TASK_STATUSES.includes(status);
}

export function isActiveAssignmentStatus(status: AssignmentStatus): boolean {
  return ACTIVE_ASSIGNMENT_STATUSES.includes(status);
}

export function hasRole(user: Pick<User, 'roles'>, role: Role): boolean {
  return user.roles.includes(role);
}

/** AUTH-4, KIO-1: supervisors and admins sign in with a PIN (or a password), never by a badge alone, anywhere. */
export function badgeNeedsPin(user: Pick<User, 'roles'>): boolean {
  return hasRole(user, 'supervisor') || hasRole(user, 'admin');
}

/** KIO-1: at a kiosk, someone without the operator role only looks (no task operations). */
export function looksOnlyAtKiosk(user: Pick<User, 'roles'>): boolean {
  return !hasRole(user, 'operator');
}

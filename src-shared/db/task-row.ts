/**
 * The `tasks` table has the same columns on the server and in a terminal's cache; this maps one
 * row (with `work_order_number` and `operator_name` joined or stored) to a Task, for both stores.
 */
import type { Task, TaskStatus } from '../domain/types.js';

export type Row = Record<string, unknown>;

/** Parse a JSON column, falling back when it is missing or broken. */
export function jsonColumn<T>(value: unknown, fallback: T): T {
  if (typeof value !== 'string') return fallback;
  try {
    return JSON.parse(value) as T;
  } catch {
    return fallback;
  }
}

export function taskFromRow(r: Row): Task {
  return {
    id: r.id as string,
    workOrderId: r.work_order_id as string,
    workOrderNumber: r.work_order_number as string,
    step: r.step as string,
    workContent: r.work_content as string,
    departmentId: (r.department_id as string | null) ?? null,
    status: r.status as TaskStatus,
    operatorId: (r.operator_id as string | null) ?? null,
    operatorName: (r.operator_name as string | null) ?? null,
    priority: r.priority as number,
    dueAt: (r.due_at as number | null) ?? null,
    requiredSkills: jsonColumn<string[]>(r.required_skills, []),
    version: r.version as number,
    createdAt: r.created_at as number,
    updatedAt: r.updated_at as number,
  };
}

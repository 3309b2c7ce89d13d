/**
 * What the views compute from the board: the summary, the charts' series, people's completed work
 * this shift, the open exceptions. Pure functions of the board state, and hooks that recompute
 * them only when the board (or the minute) changed.
 */
import { useMemo } from 'react';
import { countPerHour, floorCounts, hourSlots, openFlags, type DepartmentSummary } from '../../src-shared/domain/board.js';
import { shiftBounds, type ShiftBounds } from '../../src-shared/domain/supervision.js';
import type { Department } from '../../src-shared/domain/types.js';
import type { BoardException } from '../../src-shared/protocol/supervisor.js';
import type { BoardState } from './stores/board.js';
import { useApp, useBoard, useUi } from './stores/hooks.js';

export function unreadCount(s: BoardState): number {
  let n = 0;
  for (const x of s.notifications.values()) if (x.readAt === null) n++;
  return n;
}

/** The scope's departments, by name. */
export function departmentList(s: BoardState): Department[] {
  return [...s.departments.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export function useDepartments(): Department[] {
  const version = useBoard((s) => s.version);
  const board = useApp().board;
  return useMemo(() => departmentList(board.getState()), [board, version]);
}

export function useShift(): ShiftBounds {
  const now = useUi((s) => s.now);
  const tz = useBoard((s) => s.supervision.timeZone);
  const starts = useBoard((s) => s.supervision.shiftStarts);
  return useMemo(() => shiftBounds(now, { timeZone: tz, shiftStarts: starts }), [now, tz, starts]);
}

/** SUP-2: the floor summary of the board at `now` (the page's "now", as the task table's filters use it). */
export function floorSummary(s: BoardState, now: number, shiftStart: number): { rows: DepartmentSummary[]; total: DepartmentSummary } {
  const flags = openFlags(s.exceptions.values());
  return floorCounts(s.tasks.values(), departmentList(s).map((d) => d.id), { now, ...flags, shiftStart });
}

export function useSummary(): { rows: DepartmentSummary[]; total: DepartmentSummary } {
  const version = useBoard((s) => s.version);
  const now = useUi((s) => s.now);
  const shift = useShift();
  const board = useApp().board;
  // `version` stands for the board's contents.
  return useMemo(() => floorSummary(board.getState(), now, shift.start), [board, version, now, shift.start]);
}

export interface HourlySeries {
  slots: number[];
  series: Array<{ id: string; label: string; counts: number[] }>;
}

/** Tasks completed per hour of the current shift, per department (at most twice a second). */
export function useCompletedPerHour(): HourlySeries {
  const version = useBoard((s) => s.slowVersion);
  const shift = useShift();
  const now = useUi((s) => s.now);
  const board = useApp().board;
  return useMemo(() => {
    const s = board.getState();
    const slots = hourSlots(shift.start, Math.min(shift.end, Math.max(now, shift.start + 1)));
    const byDept = new Map<string, number[]>();
    for (const t of s.tasks.values()) {
      if (t.status !== 'completed' || t.updatedAt < shift.start || t.departmentId === null) continue;
      const list = byDept.get(t.departmentId) ?? [];
      list.push(t.updatedAt);
      byDept.set(t.departmentId, list);
    }
    return {
      slots,
      series: departmentList(s).map((d) => ({ id: d.id, label: d.name, counts: countPerHour(byDept.get(d.id) ?? [], slots) })),
    };
  }, [board, version, shift.start, shift.end, now]);
}

/** Claim conflicts, other refusals, rejections and expiries per hour of the current shift. */
export function useExceptionsPerHour(): HourlySeries {
  const version = useBoard((s) => s.slowVersion);
  const shift = useShift();
  const now = useUi((s) => s.now);
  const board = useApp().board;
  return useMemo(() => {
    const s = board.getState();
    const slots = hourSlots(shift.start, Math.min(shift.end, Math.max(now, shift.start + 1)));
    const kinds: Array<{ id: string; kinds: BoardException['kind'][] }> = [
      { id: 'conflicts', kinds: ['claim_conflict'] },
      { id: 'refusals', kinds: ['claim_stale', 'operation_refused'] },
      { id: 'rejections', kinds: ['task_rejected'] },
      { id: 'expiries', kinds: ['assignment_expired'] },
    ];
    const exceptions = [...s.exceptions.values()];
    return {
      slots,
      series: kinds.map((k) => ({ id: k.id, label: k.id, counts: countPerHour(exceptions.filter((e) => k.kinds.includes(e.kind)).map((e) => e.createdAt), slots) })),
    };
  }, [board, version, shift.start, shift.end, now]);
}

/** Open exceptions, newest first (optionally every kind of the last day too). */
export function exceptionList(s: BoardState, o: { all: boolean; kind?: BoardException['kind'] | undefined }): BoardException[] {
  return [...s.exceptions.values()]
    .filter((e) => (o.all || e.acknowledgedAt === null) && (!o.kind || e.kind === o.kind))
    .sort((a, b) => b.id - a.id);
}

/** Tasks each operator completed this shift (in the departments this view covers). */
export function useCompletedByPerson(): Map<string, number> {
  const version = useBoard((s) => s.slowVersion);
  const shift = useShift();
  const board = useApp().board;
  return useMemo(() => {
    const counts = new Map<string, number>();
    for (const t of board.getState().tasks.values()) {
      if (t.status === 'completed' && t.operatorId && t.updatedAt >= shift.start) counts.set(t.operatorId, (counts.get(t.operatorId) ?? 0) + 1);
    }
    return counts;
  }, [board, version, shift.start]);
}

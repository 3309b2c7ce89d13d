-- Issue 12: a department's pending tasks nobody holds, in claimable order (LIST-1: priority, then
-- due date with undated last, then age, then id), read from an index instead of sorting the
-- department: auto-assign reads them slice after slice (AUTO-1), kiosks' claimable lists page them.
CREATE INDEX tasks_claimable ON tasks(department_id, priority DESC, (due_at IS NULL), due_at, created_at, id)
  WHERE status = 'pending' AND operator_id IS NULL;

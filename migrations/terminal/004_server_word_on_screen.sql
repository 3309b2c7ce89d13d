-- Issue 12: a task is written once per change page, not twice. `tasks` (what the operator sees)
-- is also the server's last word for every task with no outbox entry waiting, which is nearly
-- all of them; `tasks_base` keeps the server's word apart only for a task whose shown row carries
-- pending local changes (reconcile.ts). A snapshot marks the row that holds the server's word.
ALTER TABLE tasks ADD COLUMN sync_mark INTEGER NOT NULL DEFAULT 0;

-- Tasks with nothing pending: the screen takes the base (it showed exactly that), with its mark ...
INSERT INTO tasks (id, work_order_id, work_order_number, step, work_content, department_id, status, operator_id,
                   operator_name, priority, due_at, required_skills, version, created_at, updated_at, cooldowns,
                   worked_by, assignment, last_rejection, sync_mark)
  SELECT id, work_order_id, work_order_number, step, work_content, department_id, status, operator_id,
         operator_name, priority, due_at, required_skills, version, created_at, updated_at, cooldowns,
         worked_by, assignment, last_rejection, sync_mark
  FROM tasks_base WHERE id NOT IN (SELECT task_id FROM outbox WHERE task_id IS NOT NULL)
  ON CONFLICT(id) DO UPDATE SET work_order_id = excluded.work_order_id, work_order_number = excluded.work_order_number,
    step = excluded.step, work_content = excluded.work_content, department_id = excluded.department_id,
    status = excluded.status, operator_id = excluded.operator_id, operator_name = excluded.operator_name,
    priority = excluded.priority, due_at = excluded.due_at, required_skills = excluded.required_skills,
    version = excluded.version, created_at = excluded.created_at, updated_at = excluded.updated_at,
    cooldowns = excluded.cooldowns, worked_by = excluded.worked_by, assignment = excluded.assignment,
    last_rejection = excluded.last_rejection, sync_mark = excluded.sync_mark;

-- ... and its separate base row goes.
DELETE FROM tasks_base WHERE id NOT IN (SELECT task_id FROM outbox WHERE task_id IS NOT NULL);

-- A task shown with entries waiting but no base row (no release made one; a damaged file could)
-- would have its local change taken for the server's word: it goes, and the next page brings it.
DELETE FROM tasks WHERE id IN (SELECT task_id FROM outbox WHERE task_id IS NOT NULL) AND id NOT IN (SELECT id FROM tasks_base);

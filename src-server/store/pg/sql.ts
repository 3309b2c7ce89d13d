/**
 * The PostgreSQL store's SQL fragments. Rows map to records with the SQLite store's row mappers
 * (../sqlite/rows.ts): the columns, their names and their JSON text are the same on both.
 */
import { ACTIVE_ASSIGNMENT_STATUSES } from '../../../src-shared/domain/types.js';

export const ACTIVE_ASSIGNMENT_SQL = `('${ACTIVE_ASSIGNMENT_STATUSES.join("','")}')`;
/** An assignment row (of table alias `a`, when given) whose operator worked the task. */
export const workedSql = (a = '') => `(${a}status IN ('assigned','accepted','in_progress','submitted') OR ${a}started_at IS NOT NULL)`;
export const WORKED_SQL = workedSql();

export const TASK_SELECT = `
  SELECT t.*, wo.number AS work_order_number, u.display_name AS operator_name
  FROM tasks t
  JOIN work_orders wo ON wo.id = t.work_order_id
  LEFT JOIN users u ON u.id = t.operator_id`;

export const TASK_BY_ID = `${TASK_SELECT} WHERE t.id = $1`;

/** Tasks as a table for supervisors (TASK_FIELDS order), read as arrays. Filter on alias `t`. */
export const TASK_COLUMNS_SELECT = `
  SELECT t.id, t.work_order_id, wo.number, t.step, t.work_content, t.department_id, t.status, t.operator_id,
         u.display_name, t.priority, t.due_at, t.required_skills, t.version, t.created_at, t.updated_at
  FROM tasks t
  JOIN work_orders wo ON wo.id = t.work_order_id
  LEFT JOIN users u ON u.id = t.operator_id`;

/** Users with their departments as a JSON array (text, as SQLite's json_group_array gives). */
export const USER_SELECT = `
  SELECT u.*, (SELECT COALESCE(json_agg(ud.department_id), '[]'::json)::text FROM user_departments ud WHERE ud.user_id = u.id) AS department_ids
  FROM users u`;

/** `u.roles` holds this role (a parameter or a quoted literal). */
export const hasRole = (role: string) => `(u.roles::jsonb @> jsonb_build_array(${role}::text))`;

export const TERMINAL_SELECT = `
  SELECT t.*, p.user_id AS signed_in_user_id, p.signed_in_at FROM terminals t LEFT JOIN presence p ON p.terminal_id = t.id`;

/** An assignment with the name of whoever made it. Filter on alias `a`. */
export const ASSIGNMENT_INFO = `
  SELECT a.task_id, a.status, a.assigned_by, a.created_at, u.display_name AS by_name
  FROM assignments a LEFT JOIN users u ON u.id = a.assigned_by`;

/** A rejection with the name of who rejected. Filter on alias `a`. */
export const REJECTION_INFO = `
  SELECT a.task_id, a.user_id, a.reason, a.updated_at, u.display_name AS user_name
  FROM assignments a LEFT JOIN users u ON u.id = a.user_id`;

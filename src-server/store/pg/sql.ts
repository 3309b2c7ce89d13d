/**
 * The PostgreSQL store's SQL fragments. Rows map to records with the SQLite store's row mappers
 * (../sqlite/rows.ts): the columns, their names and their JSON text are the same on both.
 */
import { TASK_SELECT } from '../sqlite/rows.js';

// Fragments that read the same in both dialects come from the SQLite store's file, written once.
export {
  ACTIVE_ASSIGNMENT_SQL,
  ASSIGNMENT_INFO,
  REJECTION_INFO,
  TASK_COLUMNS_SELECT,
  TASK_SELECT,
  TERMINAL_SELECT,
  WORKED_SQL,
  workedSql,
} from '../sqlite/rows.js';

export const TASK_BY_ID = `${TASK_SELECT} WHERE t.id = $1`;

/** Users with their departments as a JSON array (text, as SQLite's json_group_array gives). */
export const USER_SELECT = `
  SELECT u.*, (SELECT COALESCE(json_agg(ud.department_id), '[]'::json)::text FROM user_departments ud WHERE ud.user_id = u.id) AS department_ids
  FROM users u`;

/** `u.roles` holds this role (a parameter or a quoted literal). */
export const hasRole = (role: string) => `(u.roles::jsonb @> jsonb_build_array(${role}::text))`;


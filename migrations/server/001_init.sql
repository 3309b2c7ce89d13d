-- The authority's schema. Times are epoch milliseconds (server clock). JSON columns hold arrays/objects.

CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL                         -- JSON
) STRICT;

CREATE TABLE departments (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  task_limit INTEGER,                         -- CAP-1 override; NULL = site default
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
  id            TEXT PRIMARY KEY,
  display_name  TEXT NOT NULL,
  badge_hash    TEXT UNIQUE,                  -- keyed hash of the badge number
  pin_hash      TEXT,                         -- scrypt, for badge + PIN sign-in
  password_hash TEXT,                         -- scrypt, for supervisors on the desktop
  roles         TEXT NOT NULL DEFAULT '["operator"]',
  active        INTEGER NOT NULL DEFAULT 1,
  task_limit    INTEGER,                      -- CAP-1 override
  skills        TEXT NOT NULL DEFAULT '[]',
  quality_score REAL NOT NULL DEFAULT 0.8,    -- AUTO-4/5, in [0, 1]
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE user_departments (
  user_id       TEXT NOT NULL REFERENCES users(id),
  department_id TEXT NOT NULL REFERENCES departments(id),
  PRIMARY KEY (user_id, department_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX user_departments_by_department ON user_departments(department_id, user_id);

CREATE TABLE work_orders (
  id         TEXT PRIMARY KEY,
  number     TEXT NOT NULL UNIQUE,
  title      TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE tasks (
  id              TEXT PRIMARY KEY,
  work_order_id   TEXT NOT NULL REFERENCES work_orders(id),
  step            TEXT NOT NULL,
  work_content    TEXT NOT NULL,
  department_id   TEXT REFERENCES departments(id),
  status          TEXT NOT NULL CHECK (status IN ('draft', 'pending', 'in_progress', 'completed', 'cancelled')),
  operator_id     TEXT REFERENCES users(id),
  priority        INTEGER NOT NULL DEFAULT 0,
  due_at          INTEGER,
  required_skills TEXT NOT NULL DEFAULT '[]',
  version         INTEGER NOT NULL DEFAULT 1,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX tasks_by_operator ON tasks(operator_id, status) WHERE operator_id IS NOT NULL;
CREATE INDEX tasks_by_work_order ON tasks(work_order_id);
CREATE INDEX tasks_by_department ON tasks(department_id);

CREATE TABLE assignments (
  id            INTEGER PRIMARY KEY,
  task_id       TEXT NOT NULL REFERENCES tasks(id),
  user_id       TEXT NOT NULL REFERENCES users(id),
  step          TEXT NOT NULL,
  work_order_id TEXT NOT NULL,
  status        TEXT NOT NULL CHECK (status IN
                  ('assigned', 'accepted', 'in_progress', 'submitted', 'released', 'rejected', 'expired', 'reassigned')),
  reason        TEXT,
  assigned_by   TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  started_at    INTEGER,
  ended_at      INTEGER,
  updated_at    INTEGER NOT NULL
) STRICT;
-- OWN-1: a task never has two holders. This also enforces DUP-1 (no duplicate active
-- (user, task, step)): one active assignment per task leaves no room for a second one.
CREATE UNIQUE INDEX assignments_one_holder ON assignments(task_id)
  WHERE status IN ('assigned', 'accepted', 'in_progress');
-- SYNC: who worked on a task (workedBy), and a task's assignment history.
CREATE INDEX assignments_by_task ON assignments(task_id, user_id);
-- XSTEP-1: what a user did on a work order.
CREATE INDEX assignments_by_user_work_order ON assignments(user_id, work_order_id);
-- EXP-1: unstarted assignments by age.
CREATE INDEX assignments_unstarted ON assignments(created_at) WHERE status IN ('assigned', 'accepted');

-- COOL-1
CREATE TABLE cooldowns (
  task_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  until   INTEGER NOT NULL,
  PRIMARY KEY (task_id, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX cooldowns_by_until ON cooldowns(until);


CREATE TABLE terminals (
  id               TEXT PRIMARY KEY,
  name             TEXT NOT NULL,
  token_hash       TEXT NOT NULL UNIQUE,
  departments      TEXT NOT NULL DEFAULT '[]', -- JSON array of department ids it serves
  active           INTEGER NOT NULL DEFAULT 1,
  last_mutation_id INTEGER NOT NULL DEFAULT 0, -- highest mutation id processed (same transaction as its effect)
  clock_offset_ms  INTEGER,                    -- server time - terminal time, measured at handshake
  last_seen_at     INTEGER,
  created_at       INTEGER NOT NULL
) STRICT;

-- One stored outcome per processed terminal mutation: a re-sent mutation gets the same answer.
-- (A rowid table: rows are appended in processing order; the index finds them per terminal.)
CREATE TABLE mutation_outcomes (
  id           INTEGER PRIMARY KEY,
  terminal_id  TEXT NOT NULL,
  mutation_id  INTEGER NOT NULL,
  name         TEXT NOT NULL,
  outcome      TEXT NOT NULL,                 -- JSON, without the task snapshot
  processed_at INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX mutation_outcomes_by_terminal ON mutation_outcomes(terminal_id, mutation_id);

-- Presence: who is signed in at which terminal.
CREATE TABLE presence (
  terminal_id  TEXT PRIMARY KEY,
  user_id      TEXT NOT NULL,
  signed_in_at INTEGER NOT NULL
) STRICT;
CREATE INDEX presence_by_user ON presence(user_id);

-- The change log read sync runs on: one row appended per change of an entity in a department
-- scope, numbered by a monotonically increasing sequence (the terminals' cursor). Append-only, so a
-- busy commit writes its end pages rather than rewriting rows all over the table; rows older than
-- the retention are pruned from the start (a terminal behind that gets a full resync).
CREATE TABLE changes (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  entity        TEXT NOT NULL,                -- 'task' | 'user' | 'department' | 'config'
  entity_id     TEXT NOT NULL,
  department_id TEXT NOT NULL DEFAULT '',     -- routing; '' = every terminal
  at            INTEGER NOT NULL
) STRICT;
-- A terminal reads only its departments' rows after its cursor.
CREATE INDEX changes_by_department ON changes(department_id, seq);

CREATE TABLE audit_events (
  id          INTEGER PRIMARY KEY,
  at          INTEGER NOT NULL,
  action      TEXT NOT NULL,
  outcome     TEXT NOT NULL,                  -- 'applied' | 'rejected' | error code
  actor_id    TEXT,                           -- the authenticated user (or the operator at a terminal)
  terminal_id TEXT,
  via         TEXT NOT NULL,                  -- 'terminal' | 'http' | 'cli' | 'system'
  task_id     TEXT,
  details     TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX audit_by_task ON audit_events(task_id);

CREATE TABLE notifications (
  id         INTEGER PRIMARY KEY,
  user_id    TEXT NOT NULL,
  event      TEXT NOT NULL,
  task_id    TEXT,
  by_user_id TEXT,
  created_at INTEGER NOT NULL,
  read_at    INTEGER
) STRICT;
CREATE INDEX notifications_by_user ON notifications(user_id);

-- Bearer tokens for API clients and signed-in supervisors; only the hash is stored.
CREATE TABLE api_tokens (
  id           TEXT PRIMARY KEY,
  user_id      TEXT NOT NULL REFERENCES users(id),
  name         TEXT NOT NULL,
  kind         TEXT NOT NULL CHECK (kind IN ('api', 'session')),
  token_hash   TEXT NOT NULL UNIQUE,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER,
  last_used_at INTEGER,
  revoked_at   INTEGER
) STRICT;

-- Sign-in throttling and lockout.
CREATE TABLE sign_in_failures (
  key             TEXT PRIMARY KEY,
  failures        INTEGER NOT NULL,
  first_failed_at INTEGER NOT NULL,
  locked_until    INTEGER
) STRICT;

-- AUTO-2: the previous round-robin pick per department and step.
CREATE TABLE round_robin (
  department_id TEXT NOT NULL,
  step          TEXT NOT NULL,
  last_user_id  TEXT NOT NULL,
  PRIMARY KEY (department_id, step)
) STRICT, WITHOUT ROWID;

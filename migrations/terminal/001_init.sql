-- A terminal's local cache and outbox. Times are epoch milliseconds; `*_local` columns are the
-- terminal's own clock, everything else comes from the server.

CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL                         -- JSON: cursor, site config, next mutation id, ...
) STRICT;

CREATE TABLE departments (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  task_limit INTEGER,
  sync_mark  INTEGER NOT NULL DEFAULT 0        -- snapshot generation that last saw this row
) STRICT;

-- The operator directory, for offline sign-in: badges and PINs only as hashes.
CREATE TABLE directory (
  id             TEXT PRIMARY KEY,
  display_name   TEXT NOT NULL,
  badge_hash     TEXT,
  pin_hash       TEXT,
  roles          TEXT NOT NULL,
  department_ids TEXT NOT NULL,
  active         INTEGER NOT NULL,
  task_limit     INTEGER,
  skills         TEXT NOT NULL DEFAULT '[]',
  sync_mark      INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX directory_by_badge ON directory(badge_hash);

-- Tasks as the server last told us (the base), ...
CREATE TABLE tasks_base (
  id                TEXT PRIMARY KEY,
  work_order_id     TEXT NOT NULL,
  work_order_number TEXT NOT NULL,
  step              TEXT NOT NULL,
  work_content      TEXT NOT NULL,
  department_id     TEXT,
  status            TEXT NOT NULL,
  operator_id       TEXT,
  operator_name     TEXT,
  priority          INTEGER NOT NULL,
  due_at            INTEGER,
  required_skills   TEXT NOT NULL,
  version           INTEGER NOT NULL,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL,
  cooldowns         TEXT NOT NULL DEFAULT '[]', -- [{userId, until}] still running
  worked_by         TEXT NOT NULL DEFAULT '[]', -- user ids who hold or worked on it (XSTEP-1)
  sync_mark         INTEGER NOT NULL DEFAULT 0
) STRICT;

-- ... and tasks as the operator sees them: the base with the pending outbox re-applied on top.
CREATE TABLE tasks (
  id                TEXT PRIMARY KEY,
  work_order_id     TEXT NOT NULL,
  work_order_number TEXT NOT NULL,
  step              TEXT NOT NULL,
  work_content      TEXT NOT NULL,
  department_id     TEXT,
  status            TEXT NOT NULL,
  operator_id       TEXT,
  operator_name     TEXT,
  priority          INTEGER NOT NULL,
  due_at            INTEGER,
  required_skills   TEXT NOT NULL,
  version           INTEGER NOT NULL,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL,
  cooldowns         TEXT NOT NULL DEFAULT '[]',
  worked_by         TEXT NOT NULL DEFAULT '[]'
) STRICT;
CREATE INDEX tasks_claimable ON tasks(department_id, priority DESC, due_at, created_at, id)
  WHERE status = 'pending' AND operator_id IS NULL;
CREATE INDEX tasks_by_operator ON tasks(operator_id, status) WHERE operator_id IS NOT NULL;
CREATE INDEX tasks_by_work_order ON tasks(work_order_id);

-- The durable outbox: written in the same transaction as the optimistic effect.
CREATE TABLE outbox (
  id            INTEGER PRIMARY KEY,          -- the per-terminal increasing mutation id
  name          TEXT NOT NULL,
  args          TEXT NOT NULL,                -- JSON
  operator_id   TEXT NOT NULL,
  task_id       TEXT,
  created_local INTEGER NOT NULL
) STRICT;
CREATE INDEX outbox_by_task ON outbox(task_id);

-- The server's answer to each mutation, kept after the outbox entry is gone.
CREATE TABLE outcomes (
  mutation_id    INTEGER PRIMARY KEY,
  name           TEXT NOT NULL,
  task_id        TEXT,
  operator_id    TEXT NOT NULL,
  status         TEXT NOT NULL CHECK (status IN ('applied', 'rejected')),
  result         TEXT NOT NULL,               -- JSON: the value, or the error data
  received_local INTEGER NOT NULL
) STRICT;

-- A rejected claim the operator has not yet acknowledged (survives restarts).
CREATE TABLE conflicts (
  id               INTEGER PRIMARY KEY,
  mutation_id      INTEGER NOT NULL UNIQUE,
  task_id          TEXT NOT NULL,
  operator_id      TEXT NOT NULL,
  code             TEXT NOT NULL,
  error            TEXT NOT NULL,             -- JSON ErrorData from the server
  task_label       TEXT NOT NULL,
  created_local    INTEGER NOT NULL,
  acknowledged_local INTEGER
) STRICT;
CREATE INDEX conflicts_open ON conflicts(operator_id) WHERE acknowledged_local IS NULL;

-- Who is signed in at this terminal (at most one operator at a time).
CREATE TABLE session (
  slot          INTEGER PRIMARY KEY CHECK (slot = 1),
  user_id       TEXT NOT NULL,
  signed_in_local INTEGER NOT NULL
) STRICT;

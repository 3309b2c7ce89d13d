-- What the supervisors' overview needs: the exceptions feed, operators' performance history,
-- terminals' live state, audit events by department and time, notifications with details.

-- SUP-4: refusals and returns a supervisor should see and resolve.
CREATE TABLE exceptions (
  id              INTEGER PRIMARY KEY,
  kind            TEXT NOT NULL CHECK (kind IN ('claim_conflict', 'claim_stale', 'operation_refused', 'task_rejected', 'assignment_expired')),
  task_id         TEXT NOT NULL,
  department_id   TEXT,                       -- the task's department when it happened (scope)
  user_id         TEXT,                       -- who tried, who rejected, whose assignment expired
  user_name       TEXT,
  holder_id       TEXT,                       -- who held the task when an operation was refused
  holder_name     TEXT,
  terminal_id     TEXT,
  operation       TEXT,                       -- the refused operation
  error_code      TEXT,
  reason          TEXT,                       -- the operator's reason (task_rejected)
  waited_ms       INTEGER,                    -- time the operation waited in the terminal's outbox
  created_at      INTEGER NOT NULL,
  acknowledged_at INTEGER,
  acknowledged_by TEXT,
  resolution      TEXT
) STRICT;
CREATE INDEX exceptions_open_by_task ON exceptions(task_id) WHERE acknowledged_at IS NULL;
CREATE INDEX exceptions_by_department ON exceptions(department_id, id);
CREATE INDEX exceptions_by_created ON exceptions(created_at);

-- PERF-1: finished assignments per operator and day (UTC), the history performance is computed from.
CREATE TABLE operator_daily (
  user_id   TEXT NOT NULL,
  day       INTEGER NOT NULL,                 -- whole days since the epoch, UTC
  submitted INTEGER NOT NULL DEFAULT 0,
  rejected  INTEGER NOT NULL DEFAULT 0,
  expired   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (user_id, day)
) STRICT, WITHOUT ROWID;
INSERT INTO operator_daily (user_id, day, submitted, rejected, expired)
  SELECT user_id, ended_at / 86400000,
         SUM(status = 'submitted'), SUM(status = 'rejected'), SUM(status = 'expired')
  FROM assignments
  WHERE ended_at IS NOT NULL AND status IN ('submitted', 'rejected', 'expired')
  GROUP BY user_id, ended_at / 86400000;

-- Terminals' live state, reported in the handshake and heartbeats (protocol v2).
ALTER TABLE terminals ADD COLUMN app_version TEXT;
ALTER TABLE terminals ADD COLUMN protocol_version INTEGER;
ALTER TABLE terminals ADD COLUMN outbox INTEGER;
ALTER TABLE terminals ADD COLUMN connected INTEGER NOT NULL DEFAULT 0;
ALTER TABLE terminals ADD COLUMN connected_at INTEGER;
ALTER TABLE terminals ADD COLUMN disconnected_at INTEGER;
-- SUP-5: when supervisors were last told this terminal is offline with work queued.
ALTER TABLE terminals ADD COLUMN offline_alerted_at INTEGER;

-- SUP-6: the audit trail by department. (No index on `at`: it cost every claim about a tenth of
-- its commit time; a time range is filtered along the department's or the table's id order.)
ALTER TABLE audit_events ADD COLUMN department_id TEXT;
UPDATE audit_events SET department_id = (SELECT department_id FROM tasks WHERE tasks.id = audit_events.task_id)
  WHERE task_id IS NOT NULL;
CREATE INDEX audit_by_department ON audit_events(department_id, id);

-- Notifications carry their facts (a rejection's reason, an offline terminal's queue).
ALTER TABLE notifications ADD COLUMN details TEXT NOT NULL DEFAULT '{}';

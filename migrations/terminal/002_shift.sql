-- A kiosk through a whole shift (protocol v3): tasks carry their holder's assignment and last
-- rejection, directory users their active tasks per department (CAP-3), the operators'
-- notifications are kept here (NTF-1), failed PINs survive a restart (KIO-2), and the outbox and
-- conflict records know whether an action waited offline (KIO-5).

ALTER TABLE tasks_base ADD COLUMN assignment TEXT;        -- JSON {status, assignedBy, assignedByName, at}
ALTER TABLE tasks_base ADD COLUMN last_rejection TEXT;    -- JSON {userId, userName, reason, at}
ALTER TABLE tasks ADD COLUMN assignment TEXT;
ALTER TABLE tasks ADD COLUMN last_rejection TEXT;

ALTER TABLE directory ADD COLUMN active_tasks TEXT NOT NULL DEFAULT '{}';  -- JSON {departmentId: count}

ALTER TABLE outbox ADD COLUMN offline INTEGER NOT NULL DEFAULT 0;           -- made while not connected
ALTER TABLE conflicts ADD COLUMN offline INTEGER NOT NULL DEFAULT 1;        -- the refused action had waited offline

CREATE TABLE pin_failures (
  badge_hash   TEXT PRIMARY KEY,
  failures     INTEGER NOT NULL,
  locked_until INTEGER                       -- terminal clock
) STRICT;

CREATE TABLE notifications (
  id          INTEGER PRIMARY KEY,           -- the server's id
  user_id     TEXT NOT NULL,
  event       TEXT NOT NULL,
  task_id     TEXT,
  task_label  TEXT,
  by_user_id  TEXT,
  by_name     TEXT,
  details     TEXT NOT NULL DEFAULT '{}',
  created_at  INTEGER NOT NULL,
  read_at     INTEGER,                       -- read, as the server last said
  read_local  INTEGER,                       -- read here; the outbox carries it to the server
  sync_mark   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX notifications_by_user ON notifications(user_id, id);

-- The cache was filled by an older protocol without the fields above: start over with a snapshot.
DELETE FROM meta WHERE key = 'cursor';

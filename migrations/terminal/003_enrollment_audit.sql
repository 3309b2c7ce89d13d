-- SEC-30: every enrollment and re-enrollment of this terminal, and every refused re-enrollment,
-- kept on the terminal itself (the server's audit shows the administrator who authorised one).
-- Never a password or secret; the newest 1,000 rows are kept.

CREATE TABLE enrollment_audit (
  id               INTEGER PRIMARY KEY,
  at               INTEGER NOT NULL,        -- terminal clock
  outcome          TEXT NOT NULL,           -- 'applied' | 'refused'
  method           TEXT NOT NULL,           -- 'first' | 'admin' | 'maintenance_secret' | 'none'
  admin_user_id    TEXT,                    -- the administrator who authorised it (method 'admin')
  from_server_url  TEXT,
  from_terminal_id TEXT,
  to_server_url    TEXT NOT NULL,
  to_terminal_id   TEXT NOT NULL,
  problem          TEXT                     -- a refusal: its error code
) STRICT;

-- OFF-7: when the signed-in operator last did something at this terminal (terminal clock), kept
-- with the session so that a restart (a power cut) does not give the previous operator a fresh
-- idle period: a session idle for longer than the timeout is ended when the terminal starts.
-- NULL for a session signed in before this column existed: its sign-in time counts.
ALTER TABLE session ADD COLUMN active_local INTEGER;

-- PROTO-5: the task a stored outcome answered about, so an outcome sent again (a re-sent mutation,
-- or the outcomes re-sent after a reconnect) carries that task as it is now. Without it the
-- terminal dropped its optimistic change for the task's older cached row, and for a moment showed
-- a task its own operator held as free to claim. Rows stored before this have none (NULL): their
-- outcomes go out without a task, as before.
ALTER TABLE mutation_outcomes ADD COLUMN task_id TEXT;

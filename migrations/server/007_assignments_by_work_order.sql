-- Issue 12: who worked which step of a work order (STEP-1), read by work order alone. Auto-assign
-- weighs every operator of the department for each task (500 in a plant's); with only
-- (user_id, work_order_id) it looked each of them up, 500 probes per task. A work order has a few
-- dozen assignments, so one range of this index reads them all.
CREATE INDEX assignments_by_work_order ON assignments(work_order_id, user_id);

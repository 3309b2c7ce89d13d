-- Issue 12: a department's tasks in id order, for snapshot pages (kiosks' and supervisors'). With
-- only (department_id), a page "the next 1,000 tasks of this department after id X" read every
-- task of the department and sorted them, for every page: a kiosk joining a department of 50,000
-- tasks read 2.5 million rows. With (department_id, id) a page reads its own rows. Neither column
-- changes when a task is worked, so claims pay nothing more. The narrower tasks_by_department stays
-- for lookups by department alone (a smaller index to read).
CREATE INDEX tasks_by_department_order ON tasks(department_id, id);

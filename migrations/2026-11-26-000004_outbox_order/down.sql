DROP TRIGGER events_commit_order ON events;
DROP FUNCTION events_commit_order();

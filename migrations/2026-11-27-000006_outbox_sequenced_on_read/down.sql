-- Events staged but never read are numbered in staging order, after every sequenced one.
UPDATE events SET sequence = (SELECT coalesce(max(sequence), 0) FROM events) + numbered.n
FROM (SELECT staged, row_number() OVER (ORDER BY staged) AS n FROM events WHERE sequence IS NULL) numbered
WHERE events.staged = numbered.staged;
ALTER TABLE events DROP CONSTRAINT events_pkey;
UPDATE events SET staged = sequence;
ALTER TABLE events DROP COLUMN sequence;
ALTER TABLE events RENAME COLUMN staged TO sequence;
ALTER TABLE events ADD PRIMARY KEY (sequence);
SELECT setval(pg_get_serial_sequence('events', 'sequence'), max(sequence)) FROM events;

CREATE FUNCTION events_commit_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(111559182283891); -- "events"
    RETURN NULL;
END
$$;

CREATE TRIGGER events_commit_order
    BEFORE INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_commit_order();

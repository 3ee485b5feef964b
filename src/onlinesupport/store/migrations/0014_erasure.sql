-- Customers' requests to erase their personal data, decided by an admin. An erased customer
-- keeps their row (and their conversations keep their times, channels and states) so reports
-- still count them; what identifies the person is removed.
CREATE TABLE erasure_requests (
    id            INTEGER PRIMARY KEY,
    customer_id   INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    status        TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'erased', 'declined')),
    requested_at  TEXT NOT NULL,
    decided_at    TEXT,
    decided_by    INTEGER REFERENCES agents(id) ON DELETE SET NULL
);
CREATE INDEX erasure_requests_status ON erasure_requests(status, requested_at);
CREATE UNIQUE INDEX erasure_requests_pending ON erasure_requests(customer_id) WHERE status = 'pending';
ALTER TABLE customers ADD COLUMN erased_at TEXT;

-- Events stay append-only with one exception: an erasure may replace the data an event
-- carries with what the reports need (marked "erased"); nothing else about it may change.
DROP TRIGGER events_append_only_update;
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
WHEN NOT (new.id = old.id AND new.conversation_id IS old.conversation_id
          AND new.type = old.type AND new.actor_type = old.actor_type
          AND new.actor_id IS old.actor_id AND new.created_at = old.created_at
          AND json_valid(new.data) AND json_extract(new.data, '$.erased') = 1)
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

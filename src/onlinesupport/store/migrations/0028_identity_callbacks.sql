-- Verified website customers and callback requests.
--
-- A customer's identities gain the kind 'external': the user id a company's website vouches
-- for with a signature (the website's own account id). SQLite cannot change a CHECK
-- constraint in place, so the table is rebuilt; nothing references it.
CREATE TABLE customer_identities_new (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('email', 'visitor', 'phone', 'external')),
    value        TEXT NOT NULL,
    UNIQUE (kind, value)
);
INSERT INTO customer_identities_new (id, customer_id, kind, value)
    SELECT id, customer_id, kind, value FROM customer_identities;
DROP TABLE customer_identities;
ALTER TABLE customer_identities_new RENAME TO customer_identities;
CREATE INDEX customer_identities_customer ON customer_identities(customer_id);

-- A callback request: the current state of one phone conversation's call back (the events
-- callback.requested and callback.outcome are the record; this row is what the desk shows).
-- The number is E.164 ('+4930123456'); the window is when the customer asked to be called,
-- in UTC; retry_at is set after an unanswered call.
CREATE TABLE callbacks (
    conversation_id  INTEGER PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    phone            TEXT NOT NULL,
    country          TEXT NOT NULL,
    window_start     TEXT NOT NULL,
    window_end       TEXT NOT NULL,
    source           TEXT NOT NULL CHECK (source IN ('widget', 'form', 'my-page')),
    status           TEXT NOT NULL DEFAULT 'waiting'
                     CHECK (status IN ('waiting', 'retry', 'reached', 'wrong_number')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    retry_at         TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX callbacks_waiting ON callbacks(status, window_end);

-- The integration surface: API tokens, the public events that webhooks send and the event
-- feed serves, webhook endpoints and their deliveries (a durable work queue like the outbox).

-- Tokens are shown once and kept only as a SHA-256 of the secret (it has 256 random bits, so
-- a slow hash adds nothing); `prefix` is what lists show. Scopes nest: read < write < admin.
CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    prefix        TEXT NOT NULL,
    scope         TEXT NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
    agent_id      INTEGER REFERENCES agents(id) ON DELETE SET NULL,
    created_by    INTEGER REFERENCES agents(id) ON DELETE SET NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT,
    last_used_at  TEXT,
    revoked_at    TEXT
);

-- Listing conversations through the API: by status, or by last change for syncing.
CREATE INDEX conversations_status_id ON conversations(status, id);
CREATE INDEX conversations_updated ON conversations(updated_at, id);

-- Endpoints: `secret` and `previous_secret` are sealed with the instance key; after a
-- rotation both sign until `previous_until`. `event_types` is a JSON list (empty: all).
CREATE TABLE webhook_endpoints (
    id               INTEGER PRIMARY KEY,
    url              TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    event_types      TEXT NOT NULL DEFAULT '[]',
    enabled          INTEGER NOT NULL DEFAULT 1,
    disabled_reason  TEXT NOT NULL DEFAULT '',
    secret           TEXT NOT NULL,
    previous_secret  TEXT,
    previous_until   TEXT,
    failing_since    TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);

-- One row per public event, written in the transaction of the event it comes from (event_id;
-- NULL for test pings and for customers a conversation brought): the payload is what it was
-- then. The event feed reads it by id, its
-- cursor: AUTOINCREMENT, so an id is never used twice, even after old rows are pruned.
CREATE TABLE webhook_events (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id         INTEGER REFERENCES events(id),
    msg_id           TEXT NOT NULL,
    type             TEXT NOT NULL,
    conversation_id  INTEGER,
    customer_id      INTEGER,
    created_at       TEXT NOT NULL,
    payload          TEXT NOT NULL
);
CREATE INDEX webhook_events_customer ON webhook_events(customer_id);

-- A work queue (see store/work_queue.py): one row per event and endpoint, delivered in order
-- per (endpoint, ordering_key), the ordering key naming the customer. Written with every
-- chat message, so it has few indexes; ids grow with time, which pruning relies on. (No
-- foreign key to webhook_events: it would need one more index; pruning keeps events that
-- deliveries still wait to send.)
CREATE TABLE webhook_deliveries (
    id                INTEGER PRIMARY KEY,
    endpoint_id       INTEGER NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    webhook_event_id  INTEGER NOT NULL,
    ordering_key      TEXT,
    status            TEXT NOT NULL DEFAULT 'queued'
                      CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   TEXT NOT NULL,
    last_error        TEXT NOT NULL DEFAULT '',
    last_status_code  INTEGER,
    sent_at           TEXT,
    created_at        TEXT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at)
    WHERE status = 'queued';
-- Covers what claiming reads (see work_queue.claim_due), in the order runs are read.
CREATE INDEX webhook_deliveries_order
    ON webhook_deliveries(endpoint_id, ordering_key, id, status, next_attempt_at)
    WHERE status IN ('queued', 'sending');

-- Each attempt of a delivery, for the endpoint's log: the answer's code and first 1 KB.
CREATE TABLE webhook_attempts (
    id           INTEGER PRIMARY KEY,
    delivery_id  INTEGER NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    attempt      INTEGER NOT NULL,
    status_code  INTEGER,
    response     TEXT NOT NULL DEFAULT '',
    error        TEXT NOT NULL DEFAULT '',
    duration_ms  INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts(delivery_id, id);

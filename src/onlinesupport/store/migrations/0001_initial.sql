-- The conversation model of DESIGN.md: customers and their identities, queues, agents,
-- conversations, messages with a gap-free per-conversation seq, and append-only events.
-- Timestamps are UTC text 'YYYY-MM-DDTHH:MM:SS.mmmZ' written by the application's clock.

CREATE TABLE customers (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL DEFAULT '',
    tier        TEXT NOT NULL DEFAULT 'standard',
    tags        TEXT NOT NULL DEFAULT '[]',
    created_at  TEXT NOT NULL
);

CREATE TABLE customer_identities (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('email', 'visitor', 'phone')),
    value        TEXT NOT NULL,
    UNIQUE (kind, value)
);
CREATE INDEX customer_identities_customer ON customer_identities(customer_id);

CREATE TABLE queues (
    id                      INTEGER PRIMARY KEY,
    name                    TEXT NOT NULL UNIQUE,
    first_response_minutes  INTEGER NOT NULL DEFAULT 60,
    next_response_minutes   INTEGER NOT NULL DEFAULT 240,
    created_at              TEXT NOT NULL
);
INSERT INTO queues (id, name, created_at) VALUES (1, 'General', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));

CREATE TABLE agents (
    id             INTEGER PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name           TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('agent', 'manager', 'admin')),
    password_hash  TEXT NOT NULL,
    active         INTEGER NOT NULL DEFAULT 1,
    capacity       INTEGER NOT NULL DEFAULT 5,
    created_at     TEXT NOT NULL
);

CREATE TABLE queue_members (
    queue_id  INTEGER NOT NULL REFERENCES queues(id) ON DELETE CASCADE,
    agent_id  INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    PRIMARY KEY (queue_id, agent_id)
);

CREATE TABLE conversations (
    id                 INTEGER PRIMARY KEY,
    customer_id        INTEGER NOT NULL REFERENCES customers(id),
    channel            TEXT NOT NULL CHECK (channel IN ('chat', 'email', 'form', 'phone')),
    subject            TEXT NOT NULL DEFAULT '',
    status             TEXT NOT NULL DEFAULT 'open'
                       CHECK (status IN ('open', 'pending', 'resolved', 'closed')),
    queue_id           INTEGER NOT NULL REFERENCES queues(id),
    assignee_id        INTEGER REFERENCES agents(id),
    priority           INTEGER NOT NULL DEFAULT 0,
    last_seq           INTEGER NOT NULL DEFAULT 0,
    page_url           TEXT NOT NULL DEFAULT '',
    page_title         TEXT NOT NULL DEFAULT '',
    page_referrer      TEXT NOT NULL DEFAULT '',
    first_response_at  TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    last_message_at    TEXT NOT NULL
);
CREATE INDEX conversations_status ON conversations(status, last_message_at);
CREATE INDEX conversations_assignee ON conversations(assignee_id, status);
CREATE INDEX conversations_customer ON conversations(customer_id);

CREATE TABLE messages (
    id               INTEGER PRIMARY KEY,
    conversation_id  INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq              INTEGER NOT NULL,
    author_type      TEXT NOT NULL CHECK (author_type IN ('customer', 'agent', 'system')),
    author_id        INTEGER,
    kind             TEXT NOT NULL CHECK (kind IN ('message', 'note', 'event')),
    body             TEXT NOT NULL,
    client_id        TEXT,
    created_at       TEXT NOT NULL,
    UNIQUE (conversation_id, seq)
);
CREATE UNIQUE INDEX messages_client_id ON messages(conversation_id, client_id)
    WHERE client_id IS NOT NULL;

-- Append-only: every change to a conversation, with a global increasing id the desk resumes from.
-- No AUTOINCREMENT needed: rows are never deleted (trigger below), so an id is never reused.
CREATE TABLE events (
    id               INTEGER PRIMARY KEY,
    conversation_id  INTEGER REFERENCES conversations(id),
    type             TEXT NOT NULL,
    actor_type       TEXT NOT NULL CHECK (actor_type IN ('customer', 'agent', 'system')),
    actor_id         INTEGER,
    data             TEXT NOT NULL DEFAULT '{}',
    created_at       TEXT NOT NULL
);
CREATE INDEX events_conversation ON events(conversation_id, id);
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    agent_id      INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    csrf_token    TEXT NOT NULL,
    address       TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL
);
CREATE INDEX sessions_agent ON sessions(agent_id);

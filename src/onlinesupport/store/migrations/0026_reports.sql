-- Reports. Every figure comes from the append-only events; the tables below are either more
-- such records (what the events did not capture yet) or a rollup of the events that
-- `onlinesupport reports rebuild` can throw away and write again with the same numbers.

-- What visitors and agents do outside any conversation, as counters per day and key, so that a
-- flood of page views or searches adds to a number instead of adding rows.
CREATE TABLE site_counts (
    day    TEXT NOT NULL,
    kind   TEXT NOT NULL CHECK (kind IN ('page_view', 'kb_search', 'article_view')),
    key    TEXT NOT NULL,
    count  INTEGER NOT NULL,
    PRIMARY KEY (kind, day, key)
) WITHOUT ROWID;

-- Agents' presence as it changed (online, away, offline), for "time online".
CREATE TABLE agent_presence (
    id          INTEGER PRIMARY KEY,
    agent_id    INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    status      TEXT NOT NULL CHECK (status IN ('online', 'away', 'offline')),
    created_at  TEXT NOT NULL
);
CREATE INDEX agent_presence_time ON agent_presence(created_at);

-- On which page a proactive message was shown, clicked or closed (the campaign report
-- compares those pages with and without it).
ALTER TABLE proactive_events ADD COLUMN page TEXT NOT NULL DEFAULT '';
CREATE INDEX proactive_events_created ON proactive_events(created_at);

-- Each manager's report mail: none, daily or weekly, and when the last one was queued.
CREATE TABLE report_subscriptions (
    agent_id    INTEGER PRIMARY KEY REFERENCES agents(id) ON DELETE CASCADE,
    frequency   TEXT NOT NULL CHECK (frequency IN ('off', 'daily', 'weekly')),
    last_sent   TEXT NOT NULL DEFAULT ''
);

-- The rollup: one row per conversation (its dimensions and outcome) and one row per measured
-- value (a first response, a resolution, a rating, an SLA target met or missed ...), both
-- recomputed from a conversation's events whenever it has new ones.
CREATE TABLE report_conversations (
    conversation_id  INTEGER PRIMARY KEY,
    created_at       TEXT NOT NULL,
    day              TEXT NOT NULL,
    queue_id         INTEGER NOT NULL,
    channel          TEXT NOT NULL,
    agent_id         INTEGER,
    tags             TEXT NOT NULL DEFAULT '[]',
    page             TEXT NOT NULL DEFAULT '',
    proactive_id     INTEGER,
    status           TEXT NOT NULL,
    resolved_at      TEXT,
    cycles           INTEGER NOT NULL,
    agent_replies    INTEGER NOT NULL,
    first_response_s REAL,
    first_response_b REAL,
    resolution_s     REAL,
    resolution_b     REAL,
    sla_met          INTEGER,
    rating           INTEGER,
    abandoned        INTEGER NOT NULL DEFAULT 0,
    fcr              INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX report_conversations_day ON report_conversations(day);

CREATE TABLE report_values (
    id               INTEGER PRIMARY KEY,
    conversation_id  INTEGER NOT NULL,
    metric           TEXT NOT NULL,
    at               TEXT NOT NULL,
    day              TEXT NOT NULL,
    hour             INTEGER NOT NULL,
    queue_id         INTEGER NOT NULL,
    channel          TEXT NOT NULL,
    agent_id         INTEGER,
    seconds          REAL,
    business         REAL,
    detail           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX report_values_metric ON report_values(metric, day);
CREATE INDEX report_values_conversation ON report_values(conversation_id);

-- How far the rollup has read the events, and the calendars it counted business hours in.
CREATE TABLE report_state (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    last_event_id  INTEGER NOT NULL,
    calendars      TEXT NOT NULL
);

-- The report mail goes through the outbox like every mail; it belongs to no conversation.
CREATE TABLE outbox_new (
    id               INTEGER PRIMARY KEY,
    conversation_id  INTEGER REFERENCES conversations(id) ON DELETE CASCADE,
    message_id       INTEGER REFERENCES messages(id) ON DELETE CASCADE,
    mailbox_id       INTEGER REFERENCES mailboxes(id) ON DELETE SET NULL,
    purpose          TEXT NOT NULL
                     CHECK (purpose IN ('reply', 'ack', 'transcript', 'notify', 'report')),
    to_address       TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body             TEXT NOT NULL,
    rfc_message_id   TEXT NOT NULL UNIQUE,
    in_reply_to      TEXT NOT NULL DEFAULT '',
    refs             TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    last_error       TEXT NOT NULL DEFAULT '',
    sent_at          TEXT,
    created_at       TEXT NOT NULL
);
INSERT INTO outbox_new SELECT * FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_message ON outbox(message_id);
CREATE INDEX outbox_acks ON outbox(to_address, purpose, created_at);

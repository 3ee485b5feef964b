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
CREATE INDEX report_conversations_page ON report_conversations(page, day) WHERE page <> '';
CREATE INDEX report_conversations_proactive ON report_conversations(proactive_id, day)
    WHERE proactive_id IS NOT NULL;

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
    bucket_s         INTEGER,
    bucket_b         INTEGER,
    detail           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX report_values_metric ON report_values(metric, day);
CREATE INDEX report_values_conversation ON report_values(conversation_id);
CREATE INDEX report_values_day ON report_values(day);
-- A duration's values in value order within each bucket (the day and queue inside, so a
-- period's or a queue's k-th value is found walking the index alone).
CREATE INDEX report_values_rank_s ON report_values(metric, bucket_s, seconds, day, queue_id);
CREATE INDEX report_values_rank_b ON report_values(metric, bucket_b, business, day, queue_id);
CREATE INDEX report_values_agent_rank_s
    ON report_values(metric, agent_id, bucket_s, seconds, day);
CREATE INDEX report_values_agent_rank_b
    ON report_values(metric, agent_id, bucket_b, business, day);

-- Per day, sums of the values above so that a page over three years adds up a few thousand
-- rows instead of millions: counts per metric and detail, and for durations how many fell in
-- each of 64 logarithmic buckets (a median is then found exactly by reading the values of one
-- bucket). Kept three ways: per queue (scope 'q'), per channel ('c'), per agent and queue ('a'),
-- and again per month (scopes 'Q', 'C', 'A', `day` being the month, YYYY-MM). Rewritten, day by
-- day and month by month, in the transaction that rewrites the values of those days.
CREATE TABLE report_daily (
    day       TEXT NOT NULL,
    scope     TEXT NOT NULL CHECK (scope IN ('q', 'c', 'a', 'Q', 'C', 'A')),
    queue_id  INTEGER,
    channel   TEXT,
    agent_id  INTEGER,
    metric    TEXT NOT NULL,
    detail    TEXT NOT NULL,
    count     INTEGER NOT NULL
);
CREATE INDEX report_daily_day ON report_daily(scope, day);

CREATE TABLE report_buckets (
    day       TEXT NOT NULL,
    scope     TEXT NOT NULL CHECK (scope IN ('q', 'c', 'a', 'Q', 'C', 'A')),
    queue_id  INTEGER,
    channel   TEXT,
    agent_id  INTEGER,
    metric    TEXT NOT NULL,
    hours     TEXT NOT NULL CHECK (hours IN ('wall', 'business')),
    b0 INTEGER NOT NULL DEFAULT 0,
    b1 INTEGER NOT NULL DEFAULT 0,
    b2 INTEGER NOT NULL DEFAULT 0,
    b3 INTEGER NOT NULL DEFAULT 0,
    b4 INTEGER NOT NULL DEFAULT 0,
    b5 INTEGER NOT NULL DEFAULT 0,
    b6 INTEGER NOT NULL DEFAULT 0,
    b7 INTEGER NOT NULL DEFAULT 0,
    b8 INTEGER NOT NULL DEFAULT 0,
    b9 INTEGER NOT NULL DEFAULT 0,
    b10 INTEGER NOT NULL DEFAULT 0,
    b11 INTEGER NOT NULL DEFAULT 0,
    b12 INTEGER NOT NULL DEFAULT 0,
    b13 INTEGER NOT NULL DEFAULT 0,
    b14 INTEGER NOT NULL DEFAULT 0,
    b15 INTEGER NOT NULL DEFAULT 0,
    b16 INTEGER NOT NULL DEFAULT 0,
    b17 INTEGER NOT NULL DEFAULT 0,
    b18 INTEGER NOT NULL DEFAULT 0,
    b19 INTEGER NOT NULL DEFAULT 0,
    b20 INTEGER NOT NULL DEFAULT 0,
    b21 INTEGER NOT NULL DEFAULT 0,
    b22 INTEGER NOT NULL DEFAULT 0,
    b23 INTEGER NOT NULL DEFAULT 0,
    b24 INTEGER NOT NULL DEFAULT 0,
    b25 INTEGER NOT NULL DEFAULT 0,
    b26 INTEGER NOT NULL DEFAULT 0,
    b27 INTEGER NOT NULL DEFAULT 0,
    b28 INTEGER NOT NULL DEFAULT 0,
    b29 INTEGER NOT NULL DEFAULT 0,
    b30 INTEGER NOT NULL DEFAULT 0,
    b31 INTEGER NOT NULL DEFAULT 0,
    b32 INTEGER NOT NULL DEFAULT 0,
    b33 INTEGER NOT NULL DEFAULT 0,
    b34 INTEGER NOT NULL DEFAULT 0,
    b35 INTEGER NOT NULL DEFAULT 0,
    b36 INTEGER NOT NULL DEFAULT 0,
    b37 INTEGER NOT NULL DEFAULT 0,
    b38 INTEGER NOT NULL DEFAULT 0,
    b39 INTEGER NOT NULL DEFAULT 0,
    b40 INTEGER NOT NULL DEFAULT 0,
    b41 INTEGER NOT NULL DEFAULT 0,
    b42 INTEGER NOT NULL DEFAULT 0,
    b43 INTEGER NOT NULL DEFAULT 0,
    b44 INTEGER NOT NULL DEFAULT 0,
    b45 INTEGER NOT NULL DEFAULT 0,
    b46 INTEGER NOT NULL DEFAULT 0,
    b47 INTEGER NOT NULL DEFAULT 0,
    b48 INTEGER NOT NULL DEFAULT 0,
    b49 INTEGER NOT NULL DEFAULT 0,
    b50 INTEGER NOT NULL DEFAULT 0,
    b51 INTEGER NOT NULL DEFAULT 0,
    b52 INTEGER NOT NULL DEFAULT 0,
    b53 INTEGER NOT NULL DEFAULT 0,
    b54 INTEGER NOT NULL DEFAULT 0,
    b55 INTEGER NOT NULL DEFAULT 0,
    b56 INTEGER NOT NULL DEFAULT 0,
    b57 INTEGER NOT NULL DEFAULT 0,
    b58 INTEGER NOT NULL DEFAULT 0,
    b59 INTEGER NOT NULL DEFAULT 0,
    b60 INTEGER NOT NULL DEFAULT 0,
    b61 INTEGER NOT NULL DEFAULT 0,
    b62 INTEGER NOT NULL DEFAULT 0,
    b63 INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX report_buckets_day ON report_buckets(scope, metric, hours, day);

-- How far the rollup has read the events, the calendars it counted business hours in, and
-- whether the daily sums still wait to be written (a rebuild writes them once, at its end).
CREATE TABLE report_state (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    last_event_id  INTEGER NOT NULL,
    calendars      TEXT NOT NULL,
    days_pending   INTEGER NOT NULL DEFAULT 0
);

-- The report mail goes through the outbox like every mail. It belongs to no conversation, as a
-- sign-in link does since 0027; only its purpose is new. SQLite cannot change a CHECK
-- constraint in place, so the table is rebuilt with every row and column it has.
CREATE TABLE outbox_new (
    id               INTEGER PRIMARY KEY,
    conversation_id  INTEGER REFERENCES conversations(id) ON DELETE CASCADE,
    message_id       INTEGER REFERENCES messages(id) ON DELETE CASCADE,
    mailbox_id       INTEGER REFERENCES mailboxes(id) ON DELETE SET NULL,
    purpose          TEXT NOT NULL
                     CHECK (purpose IN ('reply', 'ack', 'transcript', 'notify', 'signin',
                                        'report')),
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
    created_at       TEXT NOT NULL,
    expires_at       TEXT
);
INSERT INTO outbox_new (id, conversation_id, message_id, mailbox_id, purpose, to_address,
                        subject, body, rfc_message_id, in_reply_to, refs, status, attempts,
                        next_attempt_at, last_error, sent_at, created_at, expires_at)
    SELECT id, conversation_id, message_id, mailbox_id, purpose, to_address, subject, body,
           rfc_message_id, in_reply_to, refs, status, attempts, next_attempt_at, last_error,
           sent_at, created_at, expires_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_message ON outbox(message_id);
CREATE INDEX outbox_acks ON outbox(to_address, purpose, created_at);

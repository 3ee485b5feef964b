-- A mailbox can send customers a notice with a link to their conversation page instead of the
-- answer itself (for answers that should not travel by mail), and can suggest knowledge-base
-- articles in its acknowledgement. The outbox gains the purpose 'notify' for those notices;
-- SQLite cannot change a CHECK constraint in place, so the table is rebuilt.
ALTER TABLE mailboxes ADD COLUMN notify_link TEXT NOT NULL DEFAULT '';
ALTER TABLE mailboxes ADD COLUMN ack_articles INTEGER NOT NULL DEFAULT 0;

CREATE TABLE outbox_new (
    id               INTEGER PRIMARY KEY,
    conversation_id  INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    message_id       INTEGER REFERENCES messages(id) ON DELETE CASCADE,
    mailbox_id       INTEGER REFERENCES mailboxes(id) ON DELETE SET NULL,
    purpose          TEXT NOT NULL CHECK (purpose IN ('reply', 'ack', 'transcript', 'notify')),
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

-- Customers' sign-in links go through the outbox like every other mail (they were sent
-- directly and dropped with a log line when that failed). Such a mail belongs to no
-- conversation, and is only useful until the link expires: conversation_id may be empty, the
-- purpose 'signin' is allowed, and expires_at tells the sender when to give up on a mail.
-- SQLite cannot change a column or a CHECK constraint in place, so the table is rebuilt.
CREATE TABLE outbox_new (
    id               INTEGER PRIMARY KEY,
    conversation_id  INTEGER REFERENCES conversations(id) ON DELETE CASCADE,
    message_id       INTEGER REFERENCES messages(id) ON DELETE CASCADE,
    mailbox_id       INTEGER REFERENCES mailboxes(id) ON DELETE SET NULL,
    purpose          TEXT NOT NULL CHECK (purpose IN ('reply', 'ack', 'transcript', 'notify', 'signin')),
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
                        next_attempt_at, last_error, sent_at, created_at)
    SELECT id, conversation_id, message_id, mailbox_id, purpose, to_address, subject, body,
           rfc_message_id, in_reply_to, refs, status, attempts, next_attempt_at, last_error,
           sent_at, created_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_message ON outbox(message_id);
CREATE INDEX outbox_acks ON outbox(to_address, purpose, created_at);

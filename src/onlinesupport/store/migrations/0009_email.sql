-- The email channel: support mailboxes, the mails behind messages, and the outbox.

-- A support address: how mail comes in (IMAP and/or the built-in SMTP receiver), how replies
-- go out (SMTP), and the acknowledgement it sends. Passwords are encrypted with the instance's
-- secret key. IMAP progress is UIDVALIDITY + the last imported UID, never the \Seen flag.
CREATE TABLE mailboxes (
    id               INTEGER PRIMARY KEY,
    address          TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name     TEXT NOT NULL DEFAULT '',
    active           INTEGER NOT NULL DEFAULT 1,
    queue_id         INTEGER NOT NULL DEFAULT 1 REFERENCES queues(id),
    imap_host        TEXT NOT NULL DEFAULT '',
    imap_port        INTEGER NOT NULL DEFAULT 993,
    imap_security    TEXT NOT NULL DEFAULT 'tls' CHECK (imap_security IN ('tls', 'starttls', 'none')),
    imap_user        TEXT NOT NULL DEFAULT '',
    imap_password    TEXT NOT NULL DEFAULT '',
    imap_folder      TEXT NOT NULL DEFAULT 'INBOX',
    imap_after       TEXT NOT NULL DEFAULT 'seen' CHECK (imap_after IN ('seen', 'move')),
    imap_move_to     TEXT NOT NULL DEFAULT '',
    smtp_receive     INTEGER NOT NULL DEFAULT 0,
    smtp_host        TEXT NOT NULL DEFAULT '',
    smtp_port        INTEGER NOT NULL DEFAULT 587,
    smtp_security    TEXT NOT NULL DEFAULT 'starttls' CHECK (smtp_security IN ('tls', 'starttls', 'none')),
    smtp_user        TEXT NOT NULL DEFAULT '',
    smtp_password    TEXT NOT NULL DEFAULT '',
    ack_enabled      INTEGER NOT NULL DEFAULT 1,
    ack_subject      TEXT NOT NULL DEFAULT '',
    ack_body         TEXT NOT NULL DEFAULT '',
    imap_uidvalidity INTEGER,
    imap_last_uid    INTEGER NOT NULL DEFAULT 0,
    last_import_at   TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);

-- Which mailbox answers an email conversation, and the address replies go to.
CREATE TABLE email_threads (
    conversation_id  INTEGER PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    mailbox_id       INTEGER REFERENCES mailboxes(id) ON DELETE SET NULL,
    reply_to         TEXT NOT NULL,
    subject          TEXT NOT NULL DEFAULT ''
);

-- The mail a customer message came from. Message-ID plus the raw mail's hash is the guard
-- against importing one mail twice (a sender that reuses a Message-ID is not skipped).
CREATE TABLE email_messages (
    message_id       INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    mailbox_id       INTEGER REFERENCES mailboxes(id) ON DELETE SET NULL,
    rfc_message_id   TEXT NOT NULL,
    raw_sha256       TEXT NOT NULL,
    from_address     TEXT NOT NULL DEFAULT '',
    subject          TEXT NOT NULL DEFAULT '',
    refs             TEXT NOT NULL DEFAULT '',
    quote_at         INTEGER,
    html             TEXT NOT NULL DEFAULT '',
    warning          TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX email_messages_once ON email_messages(mailbox_id, rfc_message_id, raw_sha256);
CREATE INDEX email_messages_rfc_id ON email_messages(rfc_message_id);

-- The mail exactly as it arrived (zlib-compressed), kept apart so lookups stay small.
CREATE TABLE email_raw (
    message_id  INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    raw         BLOB NOT NULL
);

-- Mail to send. Durable: a row is written in the transaction that creates the reply, and its
-- Message-ID is fixed then, so a retry after a restart sends the same mail, not a new one.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    conversation_id  INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    message_id       INTEGER REFERENCES messages(id) ON DELETE CASCADE,
    mailbox_id       INTEGER REFERENCES mailboxes(id) ON DELETE SET NULL,
    purpose          TEXT NOT NULL CHECK (purpose IN ('reply', 'ack', 'transcript')),
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
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_message ON outbox(message_id);
CREATE INDEX outbox_acks ON outbox(to_address, purpose, created_at);

-- An inline image's Content-ID, so `cid:` references in a mail's HTML find their file.
ALTER TABLE attachments ADD COLUMN content_id TEXT NOT NULL DEFAULT '';

-- People on an email conversation besides its customer: colleagues the customer's own mail
-- was also addressed to (copied), and anyone who wrote into it (wrote), e.g. by answering
-- one of our signed mails. Their mail never moves where replies go; an agent chooses.
CREATE TABLE email_participants (
    conversation_id  INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    address          TEXT NOT NULL,
    name             TEXT NOT NULL DEFAULT '',
    copied           INTEGER NOT NULL DEFAULT 0,
    wrote            INTEGER NOT NULL DEFAULT 0,
    added_at         TEXT NOT NULL,
    PRIMARY KEY (conversation_id, address)
);

-- Outgoing mail of this mailbox uses a signed return path (VERP: help+bounce-7-sig@example.com)
-- so a delivery report can be told from a forged one; needs plus addressing on the mail server.
ALTER TABLE mailboxes ADD COLUMN signed_return_path INTEGER NOT NULL DEFAULT 0;

-- An agent chose where replies go (a participant instead of the customer): the customer's own
-- next mail no longer moves it back.
ALTER TABLE email_threads ADD COLUMN reply_to_chosen INTEGER NOT NULL DEFAULT 0;

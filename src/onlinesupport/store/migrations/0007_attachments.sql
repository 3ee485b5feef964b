-- Files sent in a conversation. The bytes live in the data folder's attachments/ folder
-- under `storage_name`; the row says what they are and which message carries them.
CREATE TABLE attachments (
    id            INTEGER PRIMARY KEY,
    message_id    INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    filename      TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    storage_name  TEXT NOT NULL UNIQUE,
    created_at    TEXT NOT NULL
);
CREATE INDEX attachments_message ON attachments(message_id);

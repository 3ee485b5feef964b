-- Canned replies: shared ones (owner_id NULL) and each agent's own, found by a shortcut.
CREATE TABLE canned_replies (
    id          INTEGER PRIMARY KEY,
    owner_id    INTEGER REFERENCES agents(id) ON DELETE CASCADE,
    shortcut    TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE UNIQUE INDEX canned_replies_shortcut ON canned_replies(coalesce(owner_id, 0), shortcut);

-- Routing rules: ordered, each with conditions and actions (as the admin wrote them, one per
-- line), evaluated for new conversations and customer messages. Conversations get tags.
CREATE TABLE routing_rules (
    id          INTEGER PRIMARY KEY,
    position    INTEGER NOT NULL,
    name        TEXT NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1,
    trigger     TEXT NOT NULL DEFAULT 'new' CHECK (trigger IN ('new', 'message', 'both')),
    conditions  TEXT NOT NULL DEFAULT '',
    actions     TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX routing_rules_position ON routing_rules(position);
ALTER TABLE conversations ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';

-- The desk's working tools: merged conversations, snoozes, saved inbox views, mentions in
-- internal notes, and each agent's choice of notifications.

-- A conversation merged into another points to it; its messages stay where they are (their
-- seq numbers are what a customer's client resumes from), the target shows them.
ALTER TABLE conversations ADD COLUMN merged_into INTEGER REFERENCES conversations(id);
CREATE INDEX conversations_merged ON conversations(merged_into) WHERE merged_into IS NOT NULL;

-- Snoozed: out of the working views until snoozed_until (NULL: until the customer answers).
ALTER TABLE conversations ADD COLUMN snoozed_at TEXT;
ALTER TABLE conversations ADD COLUMN snoozed_until TEXT;
CREATE INDEX conversations_snoozed ON conversations(snoozed_until) WHERE snoozed_at IS NOT NULL;

-- Inbox filters kept under a name: an agent's own (owner_id) or shared with everyone (NULL).
CREATE TABLE saved_views (
    id          INTEGER PRIMARY KEY,
    owner_id    INTEGER REFERENCES agents(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    filters     TEXT NOT NULL DEFAULT '{}',
    created_by  INTEGER REFERENCES agents(id) ON DELETE SET NULL,
    created_at  TEXT NOT NULL
);
CREATE UNIQUE INDEX saved_views_name ON saved_views(coalesce(owner_id, 0), name);

-- Who an internal note mentions, written with the note.mentioned event (the Mentions view
-- reads this instead of scanning every event).
CREATE TABLE mentions (
    message_id       INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    agent_id         INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    conversation_id  INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    created_at       TEXT NOT NULL,
    PRIMARY KEY (message_id, agent_id)
);
CREATE INDEX mentions_agent ON mentions(agent_id, created_at);

-- Which alerts an agent wants, as JSON ({"chat": {"desktop": true, "sound": false}, ...});
-- empty: the defaults.
ALTER TABLE agents ADD COLUMN notifications TEXT NOT NULL DEFAULT '';

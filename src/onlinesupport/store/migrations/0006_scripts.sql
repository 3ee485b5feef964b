-- Scripted question sequences, and which conversation is running one (at most one each).
CREATE TABLE scripts (
    id          INTEGER PRIMARY KEY,
    title       TEXT NOT NULL UNIQUE,
    questions   TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE TABLE conversation_scripts (
    conversation_id  INTEGER PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    script_id        INTEGER NOT NULL REFERENCES scripts(id) ON DELETE CASCADE,
    position         INTEGER NOT NULL,
    agent_id         INTEGER NOT NULL REFERENCES agents(id),
    started_at       TEXT NOT NULL
);

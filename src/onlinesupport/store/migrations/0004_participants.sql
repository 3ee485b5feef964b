-- Agents invited into a conversation beside its assignee (a second agent in a chat).
CREATE TABLE conversation_participants (
    conversation_id  INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    agent_id         INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    invited_by       INTEGER REFERENCES agents(id),
    joined_at        TEXT NOT NULL,
    PRIMARY KEY (conversation_id, agent_id)
);
CREATE INDEX conversation_participants_agent ON conversation_participants(agent_id);

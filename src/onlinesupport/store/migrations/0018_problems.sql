-- Escalation to back-end staff: a problem record on a conversation, worked on in an internal
-- queue while the agent who has the customer keeps the conversation.
ALTER TABLE queues ADD COLUMN internal INTEGER NOT NULL DEFAULT 0;

CREATE TABLE problems (
    id               INTEGER PRIMARY KEY,
    conversation_id  INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    queue_id         INTEGER NOT NULL REFERENCES queues(id),
    type             TEXT NOT NULL CHECK (type IN ('question', 'problem', 'rma')),
    product          TEXT NOT NULL DEFAULT '',
    serial_number    TEXT NOT NULL DEFAULT '',
    rma_number       TEXT NOT NULL DEFAULT '',
    summary          TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL DEFAULT 'new'
                     CHECK (status IN ('new', 'in progress', 'waiting for parts', 'solved')),
    created_by       INTEGER REFERENCES agents(id) ON DELETE SET NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX problems_queue ON problems(queue_id, status);
CREATE INDEX problems_conversation ON problems(conversation_id);

-- Whether a queue takes its chats back from an agent who went offline (so they are offered
-- to someone online) or leaves them with the agent.
ALTER TABLE queues ADD COLUMN release_offline INTEGER NOT NULL DEFAULT 0;

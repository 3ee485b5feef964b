-- How a queue picks the agent for automatic assignment and chat offers: the least loaded
-- (fewest open conversations; the longest without one among equals) or strictly in turn.
ALTER TABLE queues ADD COLUMN assignment TEXT NOT NULL DEFAULT 'least-loaded'
    CHECK (assignment IN ('least-loaded', 'round-robin'));

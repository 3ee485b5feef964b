-- The next-answer target: when a customer writes again after an agent's answer, the next
-- answer is due within the queue's next-response time (in its business hours), watched like
-- the first one.
ALTER TABLE conversations ADD COLUMN next_response_due_at TEXT;
ALTER TABLE conversations ADD COLUMN next_waiting_since TEXT;
ALTER TABLE conversations ADD COLUMN next_warned_at TEXT;
ALTER TABLE conversations ADD COLUMN next_breached_at TEXT;
CREATE INDEX conversations_next_due ON conversations(next_response_due_at)
    WHERE next_response_due_at IS NOT NULL;

-- When a conversation's first-answer target was about to pass (warning) and passed (breach),
-- so each is recorded once.
ALTER TABLE conversations ADD COLUMN sla_warned_at TEXT;
ALTER TABLE conversations ADD COLUMN sla_breached_at TEXT;
CREATE INDEX conversations_waiting_answer ON conversations(first_response_due_at)
    WHERE first_response_at IS NULL AND sla_breached_at IS NULL;

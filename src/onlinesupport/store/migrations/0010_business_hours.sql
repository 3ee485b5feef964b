-- Each queue's business-hours calendar (see routing/hours.py for the text format), and the
-- moment a conversation's first answer is due, counted in its queue's business hours.
ALTER TABLE queues ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE queues ADD COLUMN hours TEXT NOT NULL DEFAULT '';
ALTER TABLE queues ADD COLUMN holidays TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN first_response_due_at TEXT;

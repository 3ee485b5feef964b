-- Queue managers (alerted when an answer there is about to be late or is late), where a late
-- conversation goes (optional), and the chat's own hours (chat can close before mail does).
ALTER TABLE queue_members ADD COLUMN manager INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queues ADD COLUMN breach_queue_id INTEGER REFERENCES queues(id) ON DELETE SET NULL;
ALTER TABLE queues ADD COLUMN chat_hours TEXT NOT NULL DEFAULT '';

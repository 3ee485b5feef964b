-- How far agents have read a conversation (a message seq), for the visitor's "Read" mark.
ALTER TABLE conversations ADD COLUMN agent_read_seq INTEGER NOT NULL DEFAULT 0;

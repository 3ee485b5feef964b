-- Chat offers: a queue can offer each new chat to one agent at a time (the online member with
-- room and the fewest conversations), who accepts within offer_seconds or it moves on.
ALTER TABLE queues ADD COLUMN chat_offers INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queues ADD COLUMN offer_seconds INTEGER NOT NULL DEFAULT 30;

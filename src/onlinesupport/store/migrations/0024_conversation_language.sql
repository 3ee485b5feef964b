-- The language a conversation is in, when its channel says (the chat widget's language), for
-- routing rules ("language is de").
ALTER TABLE conversations ADD COLUMN language TEXT NOT NULL DEFAULT '';

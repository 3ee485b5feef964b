-- The knowledge base: categories, Markdown articles (rendered and sanitised when saved), their
-- translations, images, and what self-service records for the reports: helpful votes, searches
-- that found nothing, and questions an article answered (deflections).
CREATE TABLE kb_categories (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
    slug        TEXT NOT NULL UNIQUE,
    position    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL
);

CREATE TABLE kb_articles (
    id           INTEGER PRIMARY KEY,
    category_id  INTEGER REFERENCES kb_categories(id) ON DELETE SET NULL,
    original_id  INTEGER REFERENCES kb_articles(id) ON DELETE SET NULL,
    language     TEXT NOT NULL DEFAULT 'en',
    slug         TEXT NOT NULL,
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    html         TEXT NOT NULL,
    plain        TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published')),
    visibility   TEXT NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'internal')),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    updated_by   INTEGER REFERENCES agents(id) ON DELETE SET NULL,
    UNIQUE (slug, language)
);
CREATE INDEX kb_articles_category ON kb_articles(category_id);
CREATE INDEX kb_articles_original ON kb_articles(original_id);

-- Two indexes: kb_fts_words holds every language, folded but not stemmed, for prefix matching
-- as people type ("pay" finds "payment"); kb_fts_en holds English stemmed with porter, so
-- "shipped" finds "shipping". (Porter stems a typed prefix too - "pay" becomes "pai" - so one
-- stemmed index cannot do both.) Prefix indexes for 2-4 letters keep typing fast.
CREATE VIRTUAL TABLE kb_fts_words USING fts5(
    title, plain, content='kb_articles', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2', prefix='2 3 4'
);
CREATE VIRTUAL TABLE kb_fts_en USING fts5(
    title, plain, content='kb_articles', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER kb_articles_fts_insert AFTER INSERT ON kb_articles BEGIN
    INSERT INTO kb_fts_words (rowid, title, plain) VALUES (new.id, new.title, new.plain);
    INSERT INTO kb_fts_en (rowid, title, plain)
        SELECT new.id, new.title, new.plain WHERE new.language = 'en';
END;
CREATE TRIGGER kb_articles_fts_delete AFTER DELETE ON kb_articles BEGIN
    INSERT INTO kb_fts_words (kb_fts_words, rowid, title, plain)
        VALUES ('delete', old.id, old.title, old.plain);
    INSERT INTO kb_fts_en (kb_fts_en, rowid, title, plain)
        SELECT 'delete', old.id, old.title, old.plain WHERE old.language = 'en';
END;
CREATE TRIGGER kb_articles_fts_update AFTER UPDATE OF title, plain, language ON kb_articles BEGIN
    INSERT INTO kb_fts_words (kb_fts_words, rowid, title, plain)
        VALUES ('delete', old.id, old.title, old.plain);
    INSERT INTO kb_fts_en (kb_fts_en, rowid, title, plain)
        SELECT 'delete', old.id, old.title, old.plain WHERE old.language = 'en';
    INSERT INTO kb_fts_words (rowid, title, plain) VALUES (new.id, new.title, new.plain);
    INSERT INTO kb_fts_en (rowid, title, plain)
        SELECT new.id, new.title, new.plain WHERE new.language = 'en';
END;

CREATE TABLE kb_files (
    id            INTEGER PRIMARY KEY,
    filename      TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          INTEGER NOT NULL,
    storage_name  TEXT NOT NULL UNIQUE,
    created_at    TEXT NOT NULL
);

CREATE TABLE kb_feedback (
    id          INTEGER PRIMARY KEY,
    article_id  INTEGER NOT NULL REFERENCES kb_articles(id) ON DELETE CASCADE,
    helpful     INTEGER NOT NULL CHECK (helpful IN (0, 1)),
    created_at  TEXT NOT NULL
);
CREATE INDEX kb_feedback_article ON kb_feedback(article_id);

CREATE TABLE kb_unanswered_searches (
    id          INTEGER PRIMARY KEY,
    query       TEXT NOT NULL,
    language    TEXT NOT NULL,
    source      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE kb_deflections (
    id               INTEGER PRIMARY KEY,
    article_id       INTEGER REFERENCES kb_articles(id) ON DELETE SET NULL,
    source           TEXT NOT NULL CHECK (source IN ('widget', 'form', 'email')),
    conversation_id  INTEGER REFERENCES conversations(id) ON DELETE SET NULL,
    question         TEXT NOT NULL DEFAULT '',
    created_at       TEXT NOT NULL
);
CREATE INDEX kb_deflections_created ON kb_deflections(created_at);

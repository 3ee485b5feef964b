-- Proactive messages: a small balloon the widget shows near its button on matching pages,
-- and what visitors did with it (for the reports).
CREATE TABLE proactive_messages (
    id                   INTEGER PRIMARY KEY,
    active               INTEGER NOT NULL DEFAULT 1,
    url_pattern          TEXT NOT NULL DEFAULT '*',
    seconds_on_page      INTEGER NOT NULL DEFAULT 0,
    audience             TEXT NOT NULL DEFAULT 'all' CHECK (audience IN ('all', 'new', 'returning')),
    tier                 TEXT NOT NULL DEFAULT '',
    business_hours_only  INTEGER NOT NULL DEFAULT 0,
    text                 TEXT NOT NULL,
    button               TEXT NOT NULL DEFAULT '',
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);

CREATE TABLE proactive_events (
    id          INTEGER PRIMARY KEY,
    message_id  INTEGER NOT NULL REFERENCES proactive_messages(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('shown', 'clicked', 'dismissed', 'chat_started')),
    created_at  TEXT NOT NULL
);
CREATE INDEX proactive_events_message ON proactive_events(message_id, kind);

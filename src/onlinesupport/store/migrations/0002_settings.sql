-- Settings an admin changes in the console (widget texts, allowed website origins, ...):
-- one JSON document per key, validated by the module that owns the key.
CREATE TABLE settings (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- Small facts about this installation and its last contact with the portal, as key/value pairs.
CREATE TABLE meta (
    key        TEXT PRIMARY KEY NOT NULL,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

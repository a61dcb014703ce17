-- Venues get a table of their own (core/src/checkin/diary.rs): a diary entry refers to its venue
-- instead of repeating the venue's agency, id, name, address and kind, which a code fixes for
-- every visit. The row shrinks from about 150 bytes to about 70, so purging expired entries frees
-- (and, with secure_delete = ON, zeroes) about half as many pages.
--
-- One venue row per distinct (agency, venue id, name, address, kind): a venue that renames itself
-- or moves gets a second row, and every entry keeps the name and address its own code carried.
-- A venue row lives only while an entry refers to it: the purge and the deletion of an entry
-- delete the venue rows left without entries in the same transaction, so no venue's name stays
-- behind a purged visit. No foreign key, as for checkin_matches: the venue rows are deleted only
-- once no entry refers to them, and a foreign key would check the diary (which has no index on
-- venue) once per deleted venue.
CREATE TABLE checkin_venues (
    id       INTEGER PRIMARY KEY,
    agency   TEXT NOT NULL,
    venue_id TEXT NOT NULL,
    name     TEXT NOT NULL,
    address  TEXT NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('venue', 'service_counter', 'event')),
    UNIQUE (agency, venue_id, name, address, kind)
) STRICT;

INSERT INTO checkin_venues (agency, venue_id, name, address, kind)
SELECT agency, venue_id, venue_name, venue_address, kind
FROM checkin_diary
GROUP BY agency, venue_id, venue_name, venue_address, kind
ORDER BY min(id);

-- The diary without the venue's columns (SQLite cannot drop them in place from a table with a
-- CHECK on one of them, so the table is rebuilt). Entry ids are kept: matches refer to them.
CREATE TABLE checkin_diary_v12 (
    id                INTEGER PRIMARY KEY,
    venue             INTEGER NOT NULL,
    code_id           BLOB NOT NULL,
    checked_in_at     INTEGER NOT NULL,
    auto_checkout_at  INTEGER NOT NULL,
    checked_out_at    INTEGER,
    hidden            INTEGER NOT NULL DEFAULT 0 CHECK (hidden IN (0, 1)),
    ticket_key        TEXT NOT NULL,
    ticket_id         TEXT,
    ticket_number     TEXT,
    ticket_position   INTEGER,
    ticket_state      TEXT CHECK (ticket_state IS NULL OR ticket_state IN ('waiting', 'called', 'closed')),
    ticket_counter    TEXT,
    ticket_poll_after INTEGER,
    ticket_updated_at INTEGER
) STRICT;

INSERT INTO checkin_diary_v12
    (id, venue, code_id, checked_in_at, auto_checkout_at, checked_out_at, hidden, ticket_key,
     ticket_id, ticket_number, ticket_position, ticket_state, ticket_counter, ticket_poll_after,
     ticket_updated_at)
SELECT d.id, v.id, d.code_id, d.checked_in_at, d.auto_checkout_at, d.checked_out_at, d.hidden,
       d.ticket_key, d.ticket_id, d.ticket_number, d.ticket_position, d.ticket_state,
       d.ticket_counter, d.ticket_poll_after, d.ticket_updated_at
FROM checkin_diary d
JOIN checkin_venues v
  ON v.agency = d.agency AND v.venue_id = d.venue_id AND v.name = d.venue_name
     AND v.address = d.venue_address AND v.kind = d.kind;

-- The store runs secure_delete = ON: the old table's pages are zeroed as they are freed.
DROP TABLE checkin_diary;
ALTER TABLE checkin_diary_v12 RENAME TO checkin_diary;

-- Still the diary's only index (see 0009): the purge, the pages and the dedupe go through it.
CREATE INDEX checkin_diary_time ON checkin_diary (checked_in_at);

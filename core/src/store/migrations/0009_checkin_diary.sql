-- The check-in diary (core/src/checkin/diary.rs): the citizen's own record of where they checked
-- in, kept only on the phone, in the encrypted store, for the retention period (14 days by
-- default), then purged by the core with one DELETE over checked_in_at.
-- code_id is the scanned code's cti: a second scan of the same code while its entry is open
-- (before auto_checkout_at, not checked out by hand) returns that entry. ticket_key is 128 random
-- bits sent as the ticket request's Idempotency-Key (never the row id, which other phones share);
-- unique by construction, so no index. One index only, on the time: it serves the purge, the
-- pages, and the dedupe (an open entry checked in less than a day ago, the longest automatic
-- check-out, so the dedupe reads a day's entries through it). Each index costs on every insert
-- and on every purged row (measured: a code_id index made the 100k purge 40 % slower).
CREATE TABLE checkin_diary (
    id                INTEGER PRIMARY KEY,
    agency            TEXT NOT NULL,
    venue_id          TEXT NOT NULL,
    venue_name        TEXT NOT NULL,
    venue_address     TEXT NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('venue', 'service_counter', 'event')),
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

CREATE INDEX checkin_diary_time ON checkin_diary (checked_in_at);

-- Exposure notices downloaded from the portal, verified before they are stored. Public data (the
-- portal publishes them to everyone); purged with the diary's retention on until_at.
CREATE TABLE checkin_notices (
    id          TEXT PRIMARY KEY,
    agency      TEXT NOT NULL,
    venue_id    TEXT NOT NULL,
    from_at     INTEGER NOT NULL,
    until_at    INTEGER NOT NULL,
    message     TEXT NOT NULL,
    iat         INTEGER NOT NULL,
    received_at INTEGER NOT NULL
) STRICT;

CREATE INDEX checkin_notices_venue ON checkin_notices (agency, venue_id);
CREATE INDEX checkin_notices_until ON checkin_notices (until_at);

-- Diary entries a notice concerns, found on the phone. No foreign key: the purge deletes the
-- matches of purged entries itself, so the diary's DELETE checks no child table row by row.
CREATE TABLE checkin_matches (
    id         INTEGER PRIMARY KEY,
    entry_id   INTEGER NOT NULL,
    notice_id  TEXT NOT NULL,
    matched_at INTEGER NOT NULL,
    UNIQUE (entry_id, notice_id)
) STRICT;

CREATE INDEX checkin_matches_notice ON checkin_matches (notice_id);

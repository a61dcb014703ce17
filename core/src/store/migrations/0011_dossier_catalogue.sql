-- The procedure catalogue (core/src/dossier/catalogue.rs), synced from the portal by delta.
-- `catalogue_records.record` is the procedure as the portal sent it (JSON of
-- dossier::wire::Procedure: form schema, fee table, attachment rules); `catalogue_procedures` holds
-- only what search, filters and lists read, so the rows a search touches stay small and in the
-- page cache (with the records inline, a search read 10 times more pages).
-- `name_folded` is the name folded by dossier::fold (lower-case ASCII words, single spaces).
-- The sync cursor and ETag live in `meta` (catalogue.cursor, catalogue.etag, catalogue.synced_at).
-- Nothing here is personal data.
CREATE TABLE catalogue_procedures (
    id           INTEGER PRIMARY KEY,
    code         TEXT NOT NULL UNIQUE,
    version      INTEGER NOT NULL,
    name         TEXT NOT NULL,
    name_folded  TEXT NOT NULL,
    agency_code  TEXT NOT NULL,
    agency_name  TEXT NOT NULL,
    level        TEXT NOT NULL CHECK (level IN ('central', 'province', 'district', 'commune')),
    total_fee    INTEGER NOT NULL
) STRICT;

CREATE TABLE catalogue_records (
    procedure_id  INTEGER PRIMARY KEY REFERENCES catalogue_procedures (id) ON DELETE CASCADE,
    record        TEXT NOT NULL
) STRICT;

CREATE INDEX catalogue_procedures_agency ON catalogue_procedures (agency_code);
-- An empty query lists by name: ordered by this index, not sorted.
CREATE INDEX catalogue_procedures_name ON catalogue_procedures (name_folded, code);
CREATE INDEX catalogue_procedures_level ON catalogue_procedures (level);

-- The search index: one row per folded word and procedure, with the weight of the best place the
-- word stands in (name and code, keywords, agency name; descriptions are not indexed). Prefix
-- search is a range scan on the primary key (term >= ?1 AND term < ?1 || U+10FFFF); FTS5 is not
-- compiled in (docs/size.md).
CREATE TABLE catalogue_terms (
    term          TEXT NOT NULL,
    procedure_id  INTEGER NOT NULL REFERENCES catalogue_procedures (id) ON DELETE CASCADE,
    weight        INTEGER NOT NULL,
    PRIMARY KEY (term, procedure_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX catalogue_terms_procedure ON catalogue_terms (procedure_id);

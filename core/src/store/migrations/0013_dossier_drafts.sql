-- Dossier drafts and their attachments (core/src/dossier/draft.rs, attachment.rs).
-- Everything here is personal data, protected by the store's encryption like every other table.
--
-- A draft is made from one procedure of the catalogue and remembers which version of it
-- (`procedure_code`, `procedure_version`): the catalogue may change or withdraw the procedure
-- later, the draft keeps its own copy of what it was filled against (`procedure`, the record's
-- JSON, dossier::wire::Procedure; JSON functions are compiled out, so the list's
-- `procedure_name` has its own column). `field_values` is a JSON object, field id -> string value.
-- `state`: 'editing' while the citizen fills it in; 'submitted' is reserved for the submission
-- increment, which locks a draft by setting it (allowed by the CHECK already, so no rebuild).
CREATE TABLE dossier_drafts (
    id                 INTEGER PRIMARY KEY,
    procedure_code     TEXT NOT NULL,
    procedure_version  INTEGER NOT NULL,
    procedure_name     TEXT NOT NULL,
    procedure          TEXT NOT NULL,
    state              TEXT NOT NULL DEFAULT 'editing' CHECK (state IN ('editing', 'submitted')),
    field_values       TEXT NOT NULL DEFAULT '{}',
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
) STRICT;

CREATE INDEX dossier_drafts_updated ON dossier_drafts (updated_at);

-- One attached document. Its content lives in `dossier_attachment_chunks` (256 KiB each, `seq`
-- from 0). Written over several transactions for a large file: the row is inserted with
-- complete = 0 first, chunks follow, and the last transaction sets `size`, `sha256` and
-- complete = 1. Readers only ever see complete rows; incomplete ones (a crash mid-insert) are
-- deleted with their chunks when the SDK opens. No file name is stored.
CREATE TABLE dossier_attachments (
    id           INTEGER PRIMARY KEY,
    draft_id     INTEGER NOT NULL REFERENCES dossier_drafts (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    media_type   TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       BLOB,
    chunk_count  INTEGER NOT NULL,
    complete     INTEGER NOT NULL DEFAULT 0 CHECK (complete IN (0, 1)),
    created_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX dossier_attachments_draft ON dossier_attachments (draft_id);

-- A rowid table (not WITHOUT ROWID): rows are large blobs, which WITHOUT ROWID tables store badly.
CREATE TABLE dossier_attachment_chunks (
    attachment_id  INTEGER NOT NULL REFERENCES dossier_attachments (id) ON DELETE CASCADE,
    seq            INTEGER NOT NULL,
    data           BLOB NOT NULL,
    PRIMARY KEY (attachment_id, seq)
) STRICT;

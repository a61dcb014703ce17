-- Dossiers the citizen filed (see core/src/dossier/submission.rs). A row is written together with
-- its outbox entry, before anything is sent, and is never deleted by sending: the outbox entry is
-- what drives delivery, this row is what the citizen sees. `dossier_id` is the signed manifest's
-- `jti` and the submission's Idempotency-Key.
CREATE TABLE dossier_submissions (
    id                INTEGER PRIMARY KEY,
    dossier_id        TEXT NOT NULL UNIQUE,
    outbox_id         INTEGER NOT NULL,
    draft_id          INTEGER,
    procedure_code    TEXT NOT NULL,
    procedure_version INTEGER NOT NULL,
    manifest          TEXT NOT NULL,
    state             TEXT NOT NULL DEFAULT 'queued'
                      CHECK (state IN ('queued', 'received', 'parked')),
    parked_reason     TEXT,
    receipt_code      TEXT,
    portal_status     TEXT,
    submitted_at      INTEGER NOT NULL,
    received_at       INTEGER,
    updated_at        INTEGER NOT NULL,
    CHECK ((state = 'parked') = (parked_reason IS NOT NULL)),
    CHECK ((state = 'received') = (receipt_code IS NOT NULL))
) STRICT;

CREATE INDEX dossier_submissions_by_draft ON dossier_submissions (draft_id);

-- The attachments a submission carries, in manifest order: where the bytes are read from (the
-- stored attachment) and, once its tus upload finished, where the portal has them.
CREATE TABLE dossier_submission_files (
    submission_id INTEGER NOT NULL REFERENCES dossier_submissions (id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    attachment_id INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    size          INTEGER NOT NULL,
    location      TEXT,
    PRIMARY KEY (submission_id, position)
) STRICT;

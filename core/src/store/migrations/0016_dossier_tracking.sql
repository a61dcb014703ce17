-- Dossier tracking (core/src/dossier/tracking.rs, supplement.rs, withdrawal.rs, fees.rs): what
-- happens to a filed dossier after the portal received it, kept for the citizen offline.
--
-- A supplement answering an agency's request is filed like a dossier, through the same outbox and
-- the same `dossier_submissions` table: `supplement_of` names the dossier it adds to and
-- `supplement_request` the portal's request id (both NULL for a dossier). Its draft carries the
-- same two columns while the citizen fills it in.
ALTER TABLE dossier_drafts ADD COLUMN supplement_of INTEGER;
ALTER TABLE dossier_drafts ADD COLUMN supplement_request TEXT;
ALTER TABLE dossier_submissions ADD COLUMN supplement_of INTEGER;
ALTER TABLE dossier_submissions ADD COLUMN supplement_request TEXT;

-- The portal's tracking state of a received dossier, from the last change of the status feed
-- applied to it (`status_seq`): `portal_status` (existing column) is its status, `status_reason`
-- the agency's explanation, `open_request` the JSON of the open supplement request
-- (status_feed::SupplementRequest) while the status is supplement_requested.
ALTER TABLE dossier_submissions ADD COLUMN status_seq INTEGER;
ALTER TABLE dossier_submissions ADD COLUMN status_at INTEGER;
ALTER TABLE dossier_submissions ADD COLUMN status_reason TEXT;
ALTER TABLE dossier_submissions ADD COLUMN open_request TEXT;

CREATE INDEX dossier_submissions_by_supplement ON dossier_submissions (supplement_of);

-- Every step of a dossier as the citizen sees it: the phone's own (submitted, received,
-- supplement_sent, withdrawal_requested; `seq` NULL) and each change of the portal's feed (`seq`
-- = the change's, so a page applied twice adds nothing). `status` is the status after the step,
-- NULL for a step that did not change it or that this SDK cannot read.
CREATE TABLE dossier_timeline (
    id            INTEGER PRIMARY KEY,
    submission_id INTEGER NOT NULL REFERENCES dossier_submissions (id) ON DELETE CASCADE,
    seq           INTEGER,
    event         TEXT NOT NULL,
    status        TEXT,
    reason        TEXT,
    at            INTEGER NOT NULL,
    UNIQUE (submission_id, seq)
) STRICT;

INSERT INTO dossier_timeline (submission_id, event, status, at)
    SELECT id, 'submitted', NULL, submitted_at FROM dossier_submissions;
INSERT INTO dossier_timeline (submission_id, event, status, at)
    SELECT id, 'received', portal_status, received_at FROM dossier_submissions
    WHERE received_at IS NOT NULL;

-- Fees the portal asked for, by dossier and the portal's fee id (a portal's ids are its own: a
-- phone that filed with two portals, or one that was reset, may see one id twice): the payment request (payee, amount, reference = the
-- receipt code) a VietQR is drawn from, and once paid the bank's receipt. `updated_seq` is the
-- feed change that wrote the row: an older change never overwrites a newer one.
CREATE TABLE dossier_fees (
    submission_id  INTEGER NOT NULL REFERENCES dossier_submissions (id) ON DELETE CASCADE,
    fee_id         TEXT NOT NULL,
    label          TEXT NOT NULL,
    amount         INTEGER NOT NULL CHECK (amount > 0),
    bank_bin       TEXT NOT NULL,
    account        TEXT NOT NULL,
    payee_name     TEXT NOT NULL,
    reference      TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('due', 'paid')),
    due_at         INTEGER,
    transaction_id TEXT,
    paid_amount    INTEGER,
    paid_at        INTEGER,
    updated_seq    INTEGER NOT NULL,
    PRIMARY KEY (submission_id, fee_id),
    CHECK ((state = 'paid') = (transaction_id IS NOT NULL))
) STRICT;

-- Withdrawal requests: signed by the device key like a manifest and sent through the outbox
-- (kind `dossier.withdraw`, idempotency key = `request_id`, the request's `jti`). At most one
-- per dossier; a parked one may be discarded and asked again.
CREATE TABLE dossier_withdrawals (
    id            INTEGER PRIMARY KEY,
    submission_id INTEGER NOT NULL UNIQUE REFERENCES dossier_submissions (id) ON DELETE CASCADE,
    request_id    TEXT NOT NULL UNIQUE,
    outbox_id     INTEGER NOT NULL,
    request       TEXT NOT NULL,
    state         TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'parked')),
    parked_reason TEXT,
    created_at    INTEGER NOT NULL,
    sent_at       INTEGER,
    CHECK ((state = 'parked') = (parked_reason IS NOT NULL))
) STRICT;

-- The status feed's position: the bearer token the portal gave with this device's receipts, the
-- cursor and ETag of the last page stored, and the highest `seq` applied. One row.
CREATE TABLE dossier_status_sync (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    token     TEXT,
    cursor    TEXT,
    etag      TEXT,
    last_seq  INTEGER,
    synced_at INTEGER
) STRICT;

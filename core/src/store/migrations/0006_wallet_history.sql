-- The disclosure history (core/src/wallet/history.rs): one row per issuance, presentation,
-- deletion or PIN lockout. Claims are stored by name (a JSON array of strings), never by value.
CREATE TABLE wallet_history (
    id                INTEGER PRIMARY KEY,
    at                INTEGER NOT NULL,
    kind              TEXT NOT NULL
                      CHECK (kind IN ('issuance', 'presentation', 'deletion', 'pin_lockout')),
    outcome           TEXT NOT NULL CHECK (outcome IN ('completed', 'declined', 'failed')),
    counterparty_id   TEXT,
    counterparty_name TEXT,
    credential_id     TEXT,
    claims            TEXT NOT NULL DEFAULT '[]'
) STRICT;

CREATE INDEX wallet_history_newest ON wallet_history (at DESC, id DESC);
CREATE INDEX wallet_history_credential ON wallet_history (credential_id, at DESC, id DESC);

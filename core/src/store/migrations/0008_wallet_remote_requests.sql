-- Remote presentation requests the wallet has seen (core/src/wallet/remote.rs), so a request
-- (its nonce or its state) that was answered once is never answered again. outcome is NULL while
-- the request waits for the citizen; then completed, declined or failed (the relying party refused
-- the answer). Rows go once their request has long expired: an expired request is refused anyway.
-- Nonces and states are the relying party's random values, not personal data.
CREATE TABLE wallet_remote_requests (
    client_id  TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    state      TEXT NOT NULL,
    outcome    TEXT CHECK (outcome IS NULL OR outcome IN ('completed', 'declined', 'failed')),
    seen_at    INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (client_id, nonce)
) STRICT;

CREATE INDEX wallet_remote_requests_state ON wallet_remote_requests (client_id, state);
CREATE INDEX wallet_remote_requests_expiry ON wallet_remote_requests (expires_at);

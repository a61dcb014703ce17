-- EU Digital COVID Certificates kept in the wallet (core/src/wallet/health.rs).
-- hc1 is the HC1: text exactly as scanned (personal data: name, date of birth, health data),
-- protected by the store's encryption; it is verified again against the trust list whenever it
-- is added. The columns beside it hold no personal data: what a list shows without decoding.
-- id is random, so it says nothing about the content.
CREATE TABLE health_certificates (
    id             TEXT PRIMARY KEY NOT NULL,
    hc1            TEXT NOT NULL UNIQUE,
    kind           TEXT NOT NULL CHECK (kind IN ('vaccination', 'test', 'recovery')),
    issuer_country TEXT,
    issued_at      INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    added_at       INTEGER NOT NULL
) STRICT;

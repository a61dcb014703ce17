-- The wallet's activation and credentials (core/src/wallet/credentials.rs).
-- wallet_activation: one row once a device key was registered with an issuer. key_alias names the
-- device key in the platform KeyStore; the key itself never lives here (except in the software key
-- store's own table on desktops).
CREATE TABLE wallet_activation (
    id                INTEGER PRIMARY KEY CHECK (id = 1),
    key_alias         TEXT NOT NULL,
    credential_issuer TEXT NOT NULL,
    activated_at      INTEGER NOT NULL
) STRICT;

-- Credentials as issued: the issuer-signed JWT with every disclosure (the SD-JWT without key
-- binding). Personal data, protected by the store's encryption. id is random, so it says nothing
-- about the content. pin_pending = 1 while activation waits for an acceptable PIN.
CREATE TABLE wallet_credentials (
    id           TEXT PRIMARY KEY NOT NULL,
    format       TEXT NOT NULL CHECK (format = 'dc+sd-jwt'),
    vct          TEXT NOT NULL,
    issuer       TEXT NOT NULL,
    issuer_kid   TEXT NOT NULL,
    key_alias    TEXT NOT NULL,
    sd_jwt       TEXT NOT NULL,
    issued_at    INTEGER NOT NULL,
    expires_at   INTEGER,
    status_uri   TEXT,
    status_idx   INTEGER CHECK (status_idx IS NULL OR status_idx >= 0),
    pin_pending  INTEGER NOT NULL DEFAULT 0 CHECK (pin_pending IN (0, 1)),
    stored_at    INTEGER NOT NULL
) STRICT;

-- Status list tokens as fetched (statuslist+jwt), by URI, with their ETag and ttl, so status can be
-- checked offline and refreshed cheaply.
CREATE TABLE status_lists (
    uri        TEXT PRIMARY KEY NOT NULL,
    token      TEXT NOT NULL,
    etag       TEXT,
    fetched_at INTEGER NOT NULL,
    ttl        INTEGER
) STRICT;

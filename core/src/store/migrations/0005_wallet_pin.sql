-- The wallet PIN (core/src/wallet/pin.rs): only its Argon2id hash, salt and parameters, and the
-- attempt counter with its lockout. One row. failed_attempts and the lockout are written before
-- each check, as if it will fail, so killing the app mid-check never gives an attempt back.
CREATE TABLE wallet_pin (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    salt            BLOB NOT NULL CHECK (length(salt) >= 16),
    hash            BLOB NOT NULL CHECK (length(hash) = 32),
    m_cost_kib      INTEGER NOT NULL,
    t_cost          INTEGER NOT NULL,
    p_cost          INTEGER NOT NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    locked_until    INTEGER,
    blocked         INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1)),
    set_at          INTEGER NOT NULL
) STRICT;

-- The outbox learns leases and parking (see core/src/outbox). SQLite cannot change a CHECK
-- constraint in place, so the table is rebuilt; 'failed' rows become 'parked', with the reason
-- unknown. Leases: an entry being sent is 'in_flight' until lease_expires_at; after that it is
-- due again, so a crash mid-send never strands work.
CREATE TABLE outbox_new (
    id               INTEGER PRIMARY KEY,
    idempotency_key  TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL,
    payload          BLOB NOT NULL,
    state            TEXT NOT NULL DEFAULT 'queued'
                     CHECK (state IN ('queued', 'in_flight', 'delivered', 'parked')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    lease_token      INTEGER,
    lease_expires_at INTEGER,
    last_error       TEXT,
    parked_reason    TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    CHECK ((state = 'in_flight') = (lease_token IS NOT NULL AND lease_expires_at IS NOT NULL)),
    CHECK ((state = 'parked') = (parked_reason IS NOT NULL))
) STRICT;

INSERT INTO outbox_new (id, idempotency_key, kind, payload, state, attempts, next_attempt_at,
                        lease_token, lease_expires_at, last_error, parked_reason, created_at,
                        updated_at)
SELECT id, idempotency_key, kind, payload,
       CASE state WHEN 'failed' THEN 'parked' WHEN 'in_flight' THEN 'queued' ELSE state END,
       attempts, next_attempt_at, NULL, NULL, NULL,
       CASE state WHEN 'failed' THEN 'unknown' ELSE NULL END,
       created_at, created_at
FROM outbox;

DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;

CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_lease ON outbox (state, lease_expires_at);

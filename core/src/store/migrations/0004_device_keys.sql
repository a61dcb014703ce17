-- Device keys of the software key store (platform::StoreKeyStore): desktop tools, tests and the
-- demo only. Phones keep their keys in the Android Keystore or the Secure Enclave and never write
-- here. The scalar is protected by the store's encryption, nothing more.
CREATE TABLE device_keys (
    alias               TEXT PRIMARY KEY NOT NULL,
    secret_scalar       BLOB NOT NULL CHECK (length(secret_scalar) = 32),
    user_authentication INTEGER NOT NULL CHECK (user_authentication IN (0, 1)),
    created_at          INTEGER NOT NULL
) STRICT;

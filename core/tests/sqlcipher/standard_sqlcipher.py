"""A standard SQLCipher 4 (PyPI `sqlcipher3-binary` 0.6.0: SQLCipher 4.12.0 community, linked with
OpenSSL) on the other side of `core/tests/sqlcipher_compat.rs`.

    python standard_sqlcipher.py make-fixtures DIR   # the committed fixtures (see below)
    python standard_sqlcipher.py dump DB KEY [COMPAT [QUERY]]  # prints JSON: versions, rows, checks

KEY is what goes between the quotes of `PRAGMA key = '...'`: a passphrase, or `x'<64 hex>'` for a
raw key. COMPAT `3` opens with `PRAGMA cipher_compatibility = 3` (SQLCipher 3's format; empty for
SQLCipher 4's). QUERY is the query whose rows are printed (the fixtures' table by default).

The fixtures in core/tests/sqlcipher/ were made with exactly:

    python3 -m venv /tmp/sqlcipher-venv
    /tmp/sqlcipher-venv/bin/pip install sqlcipher3-binary==0.6.0
    /tmp/sqlcipher-venv/bin/python core/tests/sqlcipher/standard_sqlcipher.py \
        make-fixtures core/tests/sqlcipher
"""

import json
import os
import sys

import sqlcipher3

RAW_KEY = "x'" + "".join(f"{b:02x}" for b in range(32)) + "'"
PASSPHRASE = "correct horse battery staple"
# (file, key, compatibility): SQLCipher 4's defaults (AES-256-CBC, HMAC-SHA512, PBKDF2-HMAC-SHA512
# 256,000 iterations) with a raw key and with a passphrase, and SQLCipher 3's format (HMAC-SHA1,
# PBKDF2-HMAC-SHA1 64,000 iterations, 1 KiB pages) with a passphrase.
FIXTURES = [
    ("v4-raw-key.db", RAW_KEY, None),
    ("v4-passphrase.db", PASSPHRASE, None),
    ("v3-passphrase.db", PASSPHRASE, 3),
]
ROWS = 40


def connect(path, key, compatibility):
    conn = sqlcipher3.connect(path)
    conn.execute(f"PRAGMA key = \"{key}\"" if key.startswith("x'") else f"PRAGMA key = '{key}'")
    if compatibility:
        conn.execute(f"PRAGMA cipher_compatibility = {int(compatibility)}")
    return conn


def make_fixtures(directory):
    for name, key, compatibility in FIXTURES:
        path = os.path.join(directory, name)
        if os.path.exists(path):
            os.remove(path)
        conn = connect(path, key, compatibility)
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT NOT NULL)")
        # Several pages of rows, so that more than the first page is checked.
        conn.executemany(
            "INSERT INTO t (id, note) VALUES (?, ?)",
            [(i, f"row {i} written by standard SQLCipher " + "x" * 200) for i in range(ROWS)],
        )
        conn.commit()
        conn.close()


def dump(path, key, compatibility, query):
    conn = connect(path, key, compatibility)
    rows = conn.execute(query).fetchall()
    print(
        json.dumps(
            {
                "cipher_version": conn.execute("PRAGMA cipher_version").fetchone()[0],
                "cipher_provider": conn.execute("PRAGMA cipher_provider").fetchone()[0],
                "integrity": conn.execute("PRAGMA integrity_check").fetchone()[0],
                "cipher_integrity": conn.execute("PRAGMA cipher_integrity_check").fetchall(),
                "rows": rows,
            }
        )
    )


if __name__ == "__main__":
    if sys.argv[1] == "make-fixtures":
        make_fixtures(sys.argv[2])
    elif sys.argv[1] == "dump":
        compatibility = sys.argv[4] if len(sys.argv) > 4 else None
        query = sys.argv[5] if len(sys.argv) > 5 else "SELECT id, note FROM t ORDER BY id"
        dump(sys.argv[2], sys.argv[3], compatibility, query)
    else:
        sys.exit(f"unknown command {sys.argv[1]}")

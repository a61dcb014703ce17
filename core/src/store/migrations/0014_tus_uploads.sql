-- Resumable attachment uploads (core/src/dossier/tus.rs, the tus 1.0.0 core protocol): one row
-- per upload source (an attachment's id and SHA-256), so an upload cut by a lost network or a
-- killed process resumes where the server last acknowledged instead of starting again.
-- `upload_url` is the URL the server's creation answer named (checked to be on the endpoint's
-- origin); `acked_offset` the last `Upload-Offset` the server acknowledged, never above `length`;
-- `completed_at` is set once every byte is acknowledged (the row is kept so a sender that
-- crashed before recording the upload's location finds it again; `forget` deletes it).
-- No file names and no content: the source key and the metadata sent are not personal data.
CREATE TABLE tus_uploads (
    source_key    TEXT PRIMARY KEY,
    endpoint      TEXT NOT NULL,
    upload_url    TEXT NOT NULL,
    length        INTEGER NOT NULL CHECK (length >= 0),
    acked_offset  INTEGER NOT NULL CHECK (acked_offset >= 0 AND acked_offset <= length),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    completed_at  INTEGER
) STRICT;

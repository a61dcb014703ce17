-- Placeholder for migration 10 (another branch adds the real one); drop this commit when merging.
SELECT 1;

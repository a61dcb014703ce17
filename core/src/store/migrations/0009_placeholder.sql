-- Placeholder for migration 9 (another branch adds the real one); drop this commit when merging.
SELECT 1;

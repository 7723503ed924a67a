-- Review statuses are last-writer-wins: each carries the change-feed position it was written
-- at, so a node's index can ignore a status older than the one it holds.
ALTER TABLE indicators ADD COLUMN status_seq BIGINT NOT NULL DEFAULT 0;

-- Reports from citizens (the public web form): filed under one platform-internal source,
-- with the submitter's pseudonym (a keyed hash, never an address or name) so that one person
-- counts once per indicator.
ALTER TABLE reports ADD COLUMN submitter TEXT;

INSERT INTO partners (id, name, kind, created_at)
VALUES ('00000000-0000-7000-8000-000000000001', 'Burgers (webformulier) / Citizens (web form)', 'citizen', 0);

-- Token labels used to be the first six hex digits of the secret, kept in plain text. They
-- are the operator's own words from this version on (`--label`); the old ones are removed.
UPDATE tokens SET label = '' WHERE label LIKE 'vn\_%' ESCAPE '\';

-- Purpose-bound tokens: the scopes a token may be used for (comma-separated keys; NULL: every
-- scope of its partner's kind, as for the tokens made before) and the purpose it was issued for.
ALTER TABLE tokens ADD COLUMN scopes TEXT;
ALTER TABLE tokens ADD COLUMN purpose TEXT;

-- Optional API token expiry (`expires_in` when creating a token): nanoseconds since the Unix
-- epoch; NULL means the token works until revoked.
ALTER TABLE tokens ADD COLUMN expires_at INTEGER;

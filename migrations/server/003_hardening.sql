-- SEC-3: a user's live sessions are counted (and the oldest revoked) at every sign-in, and
-- expired sessions are pruned: index tokens by user and kind.
CREATE INDEX api_tokens_by_user ON api_tokens(user_id, kind, created_at);

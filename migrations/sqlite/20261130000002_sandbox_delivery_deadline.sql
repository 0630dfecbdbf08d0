-- Stripe gives up on an event it could not deliver for three days; so does the sandbox. The
-- deadline counts from when the event was queued; an abandoned delivery keeps its last answer.
ALTER TABLE sandbox_deliveries ADD COLUMN queued_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sandbox_deliveries ADD COLUMN given_up_at INTEGER;
UPDATE sandbox_deliveries SET queued_at = next_attempt_at;

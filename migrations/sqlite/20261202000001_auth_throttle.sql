-- Log-in and sign-up throttling by counters taken atomically BEFORE the password is hashed (the
-- old table was read, then hashed for tens of milliseconds, then written: concurrent guesses all
-- got through). One row per bucket (`login:<email> <address>`, `login-ip:<address>`,
-- `signup-ip:<address>`), a fixed window per row.
CREATE TABLE auth_throttle (
    bucket TEXT PRIMARY KEY,
    window_started_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL
);
CREATE INDEX auth_throttle_window ON auth_throttle (window_started_at);

DROP TABLE login_failures;

-- Customers' custom domains and their certificates, obtained over ACME by the
-- provision_certificate job with HTTP-01 challenges that every web node answers from here.
CREATE TABLE custom_domains (
    id                TEXT    PRIMARY KEY,
    user_id           INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hostname          TEXT    NOT NULL UNIQUE,
    status            TEXT    NOT NULL CHECK (status IN ('pending', 'issuing', 'active', 'failed')),
    created_at        INTEGER NOT NULL,
    certificate_pem   TEXT,
    private_key_pem   TEXT,
    not_before        INTEGER,
    not_after         INTEGER,
    issued_at         INTEGER,
    -- set when a renewal is queued, so that a sweep queues each renewal once
    renewal_queued_at INTEGER,
    last_attempt_at   INTEGER,
    last_error        TEXT
);
CREATE INDEX custom_domains_user ON custom_domains (user_id);
CREATE INDEX custom_domains_expiry ON custom_domains (not_after);

-- Open HTTP-01 challenges: GET /.well-known/acme-challenge/{token} answers key_authorization.
CREATE TABLE acme_challenges (
    token             TEXT    PRIMARY KEY,
    hostname          TEXT    NOT NULL,
    key_authorization TEXT    NOT NULL,
    created_at        INTEGER NOT NULL
);
CREATE INDEX acme_challenges_hostname ON acme_challenges (hostname);

-- One ACME account per directory, shared by every node (the credentials hold its private key).
CREATE TABLE acme_accounts (
    directory_url TEXT    PRIMARY KEY,
    credentials   TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);

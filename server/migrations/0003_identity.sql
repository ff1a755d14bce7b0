-- Identity: credentials, personal data sealed at rest, role assignments with an integrity MAC, the
-- permission table as data, password history and API tokens.

ALTER TABLE organization ADD COLUMN credit_code text UNIQUE;  -- 统一社会信用代码 (GB 32100-2015)

-- Names, phone numbers and ID-card numbers of natural persons are SM4-GCM sealed (server/identity/pii.py);
-- exact lookups go through HMAC-SM3 blind indexes. The plaintext name column goes away.
ALTER TABLE app_user DROP COLUMN display_name;
ALTER TABLE app_user
    ADD COLUMN name_sealed          bytea,
    ADD COLUMN phone_sealed         bytea,
    ADD COLUMN phone_index          text UNIQUE,
    ADD COLUMN id_card_sealed       bytea,
    ADD COLUMN id_card_index        text UNIQUE,
    ADD COLUMN password_hash        text,
    ADD COLUMN password_changed_at  timestamptz,
    ADD COLUMN status               text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    ADD COLUMN acl_mac              text;  -- HMAC-SM3 over (id, login, org_id, role, status)

CREATE TABLE password_history (
    user_id        uuid NOT NULL REFERENCES app_user (id),
    password_hash  text NOT NULL,
    changed_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX password_history_user_idx ON password_history (user_id, changed_at DESC);

-- Which role holds which permission; each row carries an HMAC-SM3 so a row changed behind the
-- application's back is refused when loaded (server/identity/acl.py).
CREATE TABLE role_permission (
    role        text NOT NULL,
    permission  text NOT NULL,
    mac         text NOT NULL,
    PRIMARY KEY (role, permission)
);

-- Scoped tokens of machine clients (offline design client, mini-program backend, external platforms).
CREATE TABLE api_token (
    id            uuid PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES app_user (id),
    name          text NOT NULL,
    secret_hash   text NOT NULL,
    scopes        text[] NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    revoked_at    timestamptz,
    last_used_at  timestamptz
);
CREATE INDEX api_token_user_idx ON api_token (user_id, created_at DESC);

-- The list of every project (reviewers, auditors) reads newest first without sorting the table.
CREATE INDEX project_created_idx ON project (created_at DESC, id);

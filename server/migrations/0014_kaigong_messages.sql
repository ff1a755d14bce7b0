-- 开工一件事专栏: consultations and suggestions (咨询/建议) left by the public, for the administrators. The
-- writer's phone number is personal data: sealed (SM4-GCM, server.identity.pii, AAD naming this row) and
-- never stored in clear; the name is kept as given (a visitor may give only a surname). The IP is kept for
-- abuse handling.
CREATE TABLE kaigong_message (
    id            uuid PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('consult', 'suggest')),
    item_code     text,
    name          text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 40),
    phone_sealed  bytea NOT NULL,
    content       text NOT NULL CHECK (char_length(content) BETWEEN 1 AND 1000),
    ip            text,
    status        text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'replied', 'closed')),
    reply         text NOT NULL DEFAULT '',
    replied_by    uuid REFERENCES app_user (id),
    replied_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX kaigong_message_status_idx ON kaigong_message (status, created_at DESC);

-- The tamper-evident audit log: one hash chain over every entry (see server/audit/chain.py).

CREATE TABLE audit_entry (
    seq          bigint PRIMARY KEY CHECK (seq > 0),
    at           timestamptz NOT NULL,
    action       text NOT NULL,
    outcome      text NOT NULL CHECK (outcome IN ('success', 'failure')),
    actor_id     uuid,
    actor_login  text,
    org_id       uuid,
    ip           inet,
    target       text,
    detail       jsonb NOT NULL DEFAULT '{}',
    prev_mac     text NOT NULL,
    mac          text NOT NULL
);
CREATE INDEX audit_entry_actor_idx ON audit_entry (actor_login, seq DESC);
CREATE INDEX audit_entry_target_idx ON audit_entry (target, seq DESC);
CREATE INDEX audit_entry_at_idx ON audit_entry (at);

-- BIM model checks (模型检查): one row per model a supplier submitted to a bid session, checked with
-- the rule-set version pinned to that session. The live progress is the check actor's journal
-- (`actor_event`, kind 'check'); the report is canonical JSON, reproducible from (blob_sm3, rule-set
-- version), with its SM3 beside it.

CREATE TABLE bim_check (
    id                   uuid PRIMARY KEY,
    bid_id               uuid NOT NULL REFERENCES bid_session (id),
    org_id               uuid NOT NULL REFERENCES organization (id),   -- the supplier
    submitted_by         uuid NOT NULL REFERENCES app_user (id),
    rule_set_version_id  uuid NOT NULL REFERENCES bim_rule_set_version (id),
    blob_sm3             text NOT NULL REFERENCES file_blob (sm3),
    file_name            text NOT NULL,
    size                 bigint NOT NULL,
    upload_id            uuid NOT NULL UNIQUE,
    status               text NOT NULL DEFAULT 'queued'
                         CHECK (status IN ('queued', 'running', 'passed', 'failed', 'error')),
    report               bytea,
    report_sm3           text,
    counts               jsonb,
    created_at           timestamptz NOT NULL DEFAULT now(),
    started_at           timestamptz,
    finished_at          timestamptz
);
CREATE INDEX bim_check_bid_idx ON bim_check (bid_id, created_at DESC);
CREATE INDEX bim_check_org_idx ON bim_check (org_id, created_at DESC);

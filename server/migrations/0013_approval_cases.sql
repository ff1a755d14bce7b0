-- 开工一件事 cases: the enterprise's signing certificates (public half only: the private key stays with
-- the enterprise, in its UKey or key file), the one form's server-side draft, applications (one signed
-- submission of the merged form) and item cases (事项办件: one per applicable item, with its department,
-- state and working-day clock). Rows are the projection the project actor writes in the same transaction
-- as its journal events; queues and statistics read them.

CREATE TABLE org_certificate (
    id              uuid PRIMARY KEY,
    org_id          uuid NOT NULL REFERENCES organization (id),
    serial          text NOT NULL UNIQUE,
    subject         text NOT NULL,
    public_key_pem  text NOT NULL,
    valid_from      timestamptz NOT NULL,
    valid_to        timestamptz NOT NULL,
    revoked_at      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (valid_to > valid_from)
);
CREATE INDEX org_certificate_org_idx ON org_certificate (org_id);

-- values are sealed (SM4): the form holds names and phone numbers of contacts.
CREATE TABLE approval_draft (
    project_id     uuid NOT NULL REFERENCES project (id),
    bundle         text NOT NULL,
    values_sealed  bytea NOT NULL,
    revision       integer NOT NULL CHECK (revision > 0),
    updated_by     uuid NOT NULL REFERENCES app_user (id),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, bundle)
);

CREATE TABLE approval_application (
    id                    uuid PRIMARY KEY,
    project_id            uuid NOT NULL REFERENCES project (id),
    bundle                text NOT NULL,
    catalogue_version_id  uuid NOT NULL REFERENCES approval_catalogue_version (id),
    items                 text[] NOT NULL,
    signed_sealed         bytea NOT NULL,      -- the canonical JSON that was signed (values + material digests)
    signed_sm3            text NOT NULL CHECK (signed_sm3 ~ '^[0-9a-f]{64}$'),
    signature             bytea NOT NULL,      -- SM2 (DER) by the enterprise's certificate key
    certificate_id        uuid NOT NULL REFERENCES org_certificate (id),
    idempotency_key       text NOT NULL,
    submitted_by          uuid NOT NULL REFERENCES app_user (id),
    org_id                uuid NOT NULL REFERENCES organization (id),
    submitted_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, idempotency_key)
);
CREATE INDEX approval_application_project_idx ON approval_application (project_id, submitted_at DESC);

CREATE TABLE approval_case (
    id                uuid PRIMARY KEY,
    application_id    uuid NOT NULL REFERENCES approval_application (id),
    project_id        uuid NOT NULL REFERENCES project (id),
    item_code         text NOT NULL,
    item_name         text NOT NULL,
    dept_org_id       uuid NOT NULL REFERENCES organization (id),
    predecessors      text[] NOT NULL DEFAULT '{}',
    state             text NOT NULL CHECK (state IN ('draft', 'submitted', 'accepted', 'correction', 'reviewing',
                                                     'approved', 'refused', 'withdrawn')),
    statutory_wd      integer NOT NULL CHECK (statutory_wd BETWEEN 1 AND 120),
    committed_wd      integer NOT NULL CHECK (committed_wd BETWEEN 1 AND 120),
    accepted_on       date,
    due_on            date,                    -- derived from the clock (accepted_on, limit, pauses, extensions)
    pauses            jsonb NOT NULL DEFAULT '[]',
    extensions        jsonb NOT NULL DEFAULT '[]',
    deadline_state    text NOT NULL DEFAULT 'on_time'
                      CHECK (deadline_state IN ('on_time', 'due_soon', 'overdue', 'paused', 'done')),
    claimed_by        uuid REFERENCES app_user (id),
    decided_on        date,
    used_wd           integer,                 -- working days the department used, pauses excluded (at decision)
    submitted_at      timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (application_id, item_code)
);
CREATE INDEX approval_case_queue_idx ON approval_case (dept_org_id, state, due_on);
CREATE INDEX approval_case_project_idx ON approval_case (project_id);
CREATE INDEX approval_case_stats_idx ON approval_case (item_code, dept_org_id, state);

-- Notices to an organisation (the department holding a case, the applicant enterprise): a deadline
-- turning yellow or red, a correction asked for, a decision. Written with the event that caused them.
CREATE TABLE approval_notice (
    id          bigserial PRIMARY KEY,
    org_id      uuid NOT NULL REFERENCES organization (id),
    project_id  uuid NOT NULL REFERENCES project (id),
    case_id     uuid NOT NULL REFERENCES approval_case (id),
    kind        text NOT NULL,      -- due_soon · overdue · correction · decided · …
    message     text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    read_at     timestamptz
);
CREATE INDEX approval_notice_org_idx ON approval_notice (org_id, at DESC);

-- Issued documents (出具文件): drawing sheets, calculation books and certificates generated from a
-- project's data. Each has a public id printed with its QR code, a revision within its series (the same
-- kind from the same source), the SM3 digest of its canonical content (what the QR carries) and, once
-- issued, the platform's SM2 signature over a statement naming id, revision, content and file digests.
-- The input data is sealed with SM4 (certificates carry names and numbers of people).

CREATE TABLE deliverable (
    id                 text PRIMARY KEY CHECK (id ~ '^TB[0-9]{8}[0-9A-HJ-NP-Z]{8}$'),
    kind               text NOT NULL,
    title              text NOT NULL,
    project_id         uuid NOT NULL REFERENCES project (id),
    source_doc_id      uuid REFERENCES collab_document (id),
    source_version_id  uuid REFERENCES collab_version (id),
    series             text NOT NULL,
    revision           integer NOT NULL CHECK (revision >= 1),
    data_sealed        bytea NOT NULL,
    content_sm3        text NOT NULL CHECK (content_sm3 ~ '^[0-9a-f]{64}$'),
    status             text NOT NULL DEFAULT 'queued'
                       CHECK (status IN ('queued', 'rendering', 'draft', 'failed', 'issued', 'revoked')),
    files              jsonb NOT NULL DEFAULT '{}',   -- {"dxf": {"sm3", "size"}, "pdf": …, "previews": [sm3, …]}
    pages              integer,
    sheet_numbers      text[] NOT NULL DEFAULT '{}',
    problems           jsonb,                         -- why generation failed, per field
    statement          text,                          -- what the SM2 signature covers
    signature          bytea,
    created_by         uuid NOT NULL REFERENCES app_user (id),
    org_id             uuid REFERENCES organization (id),
    created_at         timestamptz NOT NULL DEFAULT now(),
    rendered_at        timestamptz,
    issued_at          timestamptz,
    issued_by          uuid REFERENCES app_user (id),
    revoked_at         timestamptz,
    revoked_by         uuid REFERENCES app_user (id),
    revoke_reason      text,
    UNIQUE (series, revision),
    CHECK ((status IN ('issued', 'revoked')) = (signature IS NOT NULL AND issued_at IS NOT NULL)),
    CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);
CREATE INDEX deliverable_project_idx ON deliverable (project_id, created_at DESC);
CREATE INDEX deliverable_series_idx ON deliverable (series, revision DESC);
CREATE INDEX deliverable_stale_idx ON deliverable (created_at) WHERE status IN ('queued', 'rendering');

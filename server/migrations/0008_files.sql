-- Files (文件服务): content-addressed blobs, resumable uploads (tus), and drawings (图纸): project →
-- 单体 (building) → 图纸目录 (catalogue entry) → 版次 (version). Which departments review a project is
-- kept as rows too, since drawings are readable by the reviewing departments only.

-- A stored file, named by the SM3 digest of its bytes: one copy however many versions point at it.
CREATE TABLE file_blob (
    sm3         text PRIMARY KEY CHECK (sm3 ~ '^[0-9a-f]{64}$'),
    size        bigint NOT NULL CHECK (size >= 0),
    media_type  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- The departments a project's parallel approval was dispatched to (written with the approval event).
CREATE TABLE project_reviewer (
    project_id   uuid NOT NULL REFERENCES project (id),
    dept_org_id  uuid NOT NULL REFERENCES organization (id),
    PRIMARY KEY (project_id, dept_org_id)
);
CREATE INDEX project_reviewer_dept_idx ON project_reviewer (dept_org_id);
INSERT INTO project_reviewer (project_id, dept_org_id)
SELECT DISTINCT e.actor_id, (t ->> 'dept_org_id')::uuid
FROM actor_event e, jsonb_array_elements(e.payload -> 'tasks') t
WHERE e.actor_kind = 'project' AND e.type = 'project.approval_started'
  AND EXISTS (SELECT 1 FROM organization o WHERE o.id = (t ->> 'dept_org_id')::uuid)
  AND EXISTS (SELECT 1 FROM project p WHERE p.id = e.actor_id)
ON CONFLICT DO NOTHING;

CREATE TABLE building (
    id          uuid PRIMARY KEY,
    project_id  uuid NOT NULL REFERENCES project (id),
    name        text NOT NULL,
    code        text NOT NULL DEFAULT '',
    created_by  uuid NOT NULL REFERENCES app_user (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, name)
);

-- One entry of a building's drawing catalogue; kind: 施工图 (construction) or 竣工图 (as_built).
CREATE TABLE drawing (
    id              uuid PRIMARY KEY,
    project_id      uuid NOT NULL REFERENCES project (id),
    building_id     uuid NOT NULL REFERENCES building (id),
    kind            text NOT NULL CHECK (kind IN ('construction', 'as_built')),
    discipline      text NOT NULL,
    number          text NOT NULL,
    title           text NOT NULL,
    latest_version  integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (building_id, kind, number)
);
CREATE INDEX drawing_project_idx ON drawing (project_id, building_id, kind, number);

-- 版次: every upload of an entry becomes its next version; older versions stay readable.
CREATE TABLE drawing_version (
    drawing_id   uuid NOT NULL REFERENCES drawing (id),
    version      integer NOT NULL CHECK (version > 0),
    blob_sm3     text NOT NULL REFERENCES file_blob (sm3),
    file_name    text NOT NULL,           -- the sanitised original name, for display and downloads
    size         bigint NOT NULL,
    media_type   text NOT NULL,
    uploaded_by  uuid NOT NULL REFERENCES app_user (id),
    upload_id    uuid NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (drawing_id, version)
);

-- A resumable upload (tus). kind: single, partial (a piece of a concatenation) or final (the
-- concatenation of `parts`); its target is a drawing catalogue entry or a bid session (a BIM model
-- to check). The bytes received so far are in the storage's part file; `upload_offset`
-- is the durable count (a kill -9 loses at most the chunk in flight). A partial upload has no target:
-- the final one names it.
CREATE TABLE file_upload (
    id             uuid PRIMARY KEY,
    owner_id       uuid NOT NULL REFERENCES app_user (id),
    org_id         uuid NOT NULL REFERENCES organization (id),
    kind           text NOT NULL CHECK (kind IN ('single', 'partial', 'final')),
    drawing_id     uuid REFERENCES drawing (id),
    bid_id         uuid REFERENCES bid_session (id),   -- a BIM model submitted to a bid session
    upload_length  bigint NOT NULL CHECK (upload_length >= 0),
    upload_offset  bigint NOT NULL DEFAULT 0 CHECK (upload_offset >= 0 AND upload_offset <= upload_length),
    metadata       jsonb NOT NULL DEFAULT '{}',
    file_name      text NOT NULL DEFAULT '',
    media_type     text,                  -- known once the first bytes were checked
    parts          uuid[],
    blob_sm3       text REFERENCES file_blob (sm3),
    completed_at   timestamptz,
    expires_at     timestamptz NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT file_upload_target CHECK (kind = 'partial' OR drawing_id IS NOT NULL OR bid_id IS NOT NULL)
);
CREATE INDEX file_upload_org_idx ON file_upload (org_id) WHERE completed_at IS NULL;
CREATE INDEX file_upload_expiry_idx ON file_upload (expires_at) WHERE completed_at IS NULL;

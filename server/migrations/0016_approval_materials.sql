-- 开工一件事 application materials (申报材料): the files an enterprise attaches to a project's one form, by
-- the catalogue's material code. The bytes are a content-addressed blob (file_blob, named by SM3), so a
-- material reused from an earlier project of the same enterprise is a new row pointing at the same blob
-- (source 'reuse', reused_from naming the row it came from), never a second copy. A removed material keeps
-- its row with withdrawn_at set: the audit trail, and the signed applications that named its SM3, stay whole.
CREATE TABLE approval_material (
    id             uuid PRIMARY KEY,
    project_id     uuid NOT NULL REFERENCES project (id),
    org_id         uuid NOT NULL REFERENCES organization (id),   -- the enterprise that owns the project
    material_code  text NOT NULL,
    file_name      text NOT NULL CHECK (char_length(file_name) BETWEEN 1 AND 200),
    sm3            text NOT NULL REFERENCES file_blob (sm3),
    size           bigint NOT NULL CHECK (size > 0),
    media_type     text NOT NULL,
    source         text NOT NULL CHECK (source IN ('upload', 'reuse')),
    reused_from    uuid REFERENCES approval_material (id),
    uploaded_by    uuid NOT NULL REFERENCES app_user (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    withdrawn_at   timestamptz,
    CHECK ((source = 'reuse') = (reused_from IS NOT NULL))
);
CREATE INDEX approval_material_project_idx ON approval_material (project_id, material_code);
CREATE INDEX approval_material_org_idx ON approval_material (org_id, material_code, created_at DESC);

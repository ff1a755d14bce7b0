-- The project electronic archive (项目电子档案) records every document of the project from 立项 to 竣工验收:
-- one row per document as it happens (a signed 开工一件事 application, each item's decision, an issued
-- deliverable, a drawing version), under the stage it belongs to, with the SM3 of what it records and
-- who did it. Rows are only ever added (a trigger refuses changes), so the archive is a history.

CREATE TABLE project_archive_entry (
    id          bigserial PRIMARY KEY,
    project_id  uuid NOT NULL REFERENCES project (id),
    stage       text NOT NULL CHECK (stage IN ('立项用地规划许可', '工程建设许可', '施工许可', '竣工验收')),
    kind        text NOT NULL,      -- application · decision · deliverable · drawing
    title       text NOT NULL,
    ref         text NOT NULL,      -- what it points at: application id, case id, deliverable id, drawing version
    sm3         text CHECK (sm3 ~ '^[0-9a-f]{64}$'),
    by_user     uuid REFERENCES app_user (id),
    at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, kind, ref)
);
CREATE INDEX project_archive_entry_project_idx ON project_archive_entry (project_id, at);

CREATE FUNCTION project_archive_entry_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'project_archive_entry rows are never changed or deleted'
        USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER project_archive_entry_frozen BEFORE UPDATE OR DELETE ON project_archive_entry
    FOR EACH ROW EXECUTE FUNCTION project_archive_entry_frozen();

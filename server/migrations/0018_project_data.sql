-- The project registry's structured data (用地、规划、施工许可 information, server/projects/data/project_data.json):
-- one document per project, revisioned (a stale save answers 409), the source the 开工一件事 one form and
-- later modules prefill from.

CREATE TABLE project_data (
    project_id   uuid PRIMARY KEY REFERENCES project (id),
    content      jsonb NOT NULL,
    revision     integer NOT NULL CHECK (revision > 0),
    updated_by   uuid NOT NULL REFERENCES app_user (id),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

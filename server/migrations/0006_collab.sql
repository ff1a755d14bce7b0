-- Collaborative documents (协同文档): which project a document belongs to, who made it and when. The
-- content is the document actor's journal (`actor_event`, kind 'doc') and snapshots; this row decides
-- who may open the document (those who may see the project) and who may edit it.

CREATE TABLE collab_document (
    id          uuid PRIMARY KEY,
    project_id  uuid NOT NULL REFERENCES project (id),
    title       text NOT NULL,
    created_by  uuid NOT NULL REFERENCES app_user (id),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX collab_document_project_idx ON collab_document (project_id, created_at DESC);

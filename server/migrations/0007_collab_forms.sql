-- Collaborative documents are instances of a form (collab/forms/*.json: id and published version),
-- and keep named versions (版本): the whole document state at one journal position, with who saved it.
-- Restoring a version writes a new edit (an update in the journal); versions are never changed.

ALTER TABLE collab_document
    ADD COLUMN form         text NOT NULL DEFAULT 'rich_text',
    ADD COLUMN form_version integer NOT NULL DEFAULT 1;

CREATE TABLE collab_version (
    id          uuid PRIMARY KEY,
    doc_id      uuid NOT NULL REFERENCES collab_document (id),
    seq         bigint NOT NULL,           -- the journal event (doc.version_saved) that marks it
    name        text NOT NULL,
    submitted   boolean NOT NULL DEFAULT false,  -- saved as a submission: the data validated then
    state       bytea NOT NULL,            -- the whole Yjs state as one update
    sm3         text NOT NULL,             -- SM3 of the canonical JSON content at that version
    created_by  uuid NOT NULL REFERENCES app_user (id),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX collab_version_doc_idx ON collab_version (doc_id, seq DESC);

-- Foundation: organisations, people, projects, the actor journal and project archives.

CREATE TABLE organization (
    id          uuid PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('enterprise', 'department', 'design_unit', 'bid_agency')),
    name        text NOT NULL,
    code        text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE app_user (
    id            uuid PRIMARY KEY,
    login         text NOT NULL UNIQUE,
    display_name  text NOT NULL,
    org_id        uuid NOT NULL REFERENCES organization (id),
    role          text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE project (
    id            uuid PRIMARY KEY,
    code          text NOT NULL UNIQUE,
    name          text NOT NULL,
    owner_org_id  uuid NOT NULL REFERENCES organization (id),
    created_by    uuid NOT NULL REFERENCES app_user (id),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX project_owner_idx ON project (owner_org_id, created_at DESC);

-- Every actor's events, in order. An event is committed here before any subscriber sees it.
CREATE TABLE actor_event (
    actor_kind  text NOT NULL,
    actor_id    uuid NOT NULL,
    seq         bigint NOT NULL CHECK (seq > 0),
    type        text NOT NULL,
    payload     jsonb NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (actor_kind, actor_id, seq)
);

CREATE TABLE project_archive (
    project_id  uuid PRIMARY KEY REFERENCES project (id),
    archive_no  text NOT NULL UNIQUE,
    manifest    jsonb NOT NULL,
    opened_at   timestamptz NOT NULL DEFAULT now()
);
CREATE SEQUENCE project_archive_no_seq;

-- The BIM rule library (规则库) as data: rule sets, their numbered versions (one draft at a time, the
-- others published and immutable), the history of every save of a draft, and the published version
-- pinned to a bid session, so a changed rule can never silently alter an evaluation under way.

CREATE TABLE bim_rule_set (
    id           uuid PRIMARY KEY,
    name         text NOT NULL UNIQUE,
    description  text NOT NULL DEFAULT '',
    created_by   uuid NOT NULL REFERENCES app_user (id),
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- content: {"allowed_schemas", "max_model_bytes", "stage_timeouts_s", "rules": {code: {enabled, params}},
-- "ids": {name, xml} | null}, plus "rule_versions": {code: version} frozen at publish. content_sm3 is
-- the SM3 of its canonical JSON (sorted keys, no spaces, UTF-8), set at publish.
CREATE TABLE bim_rule_set_version (
    id            uuid PRIMARY KEY,
    rule_set_id   uuid NOT NULL REFERENCES bim_rule_set (id),
    version       integer NOT NULL CHECK (version > 0),
    status        text NOT NULL CHECK (status IN ('draft', 'published')),
    content       jsonb NOT NULL,
    content_sm3   text CHECK (content_sm3 ~ '^[0-9a-f]{64}$'),
    note          text NOT NULL DEFAULT '',
    created_by    uuid NOT NULL REFERENCES app_user (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_by  uuid REFERENCES app_user (id),
    published_at  timestamptz,
    UNIQUE (rule_set_id, version),
    CHECK ((status = 'published') = (content_sm3 IS NOT NULL AND published_by IS NOT NULL
                                     AND published_at IS NOT NULL))
);
-- At most one draft per rule set.
CREATE UNIQUE INDEX bim_rule_set_version_one_draft ON bim_rule_set_version (rule_set_id) WHERE status = 'draft';

-- A published version is immutable, and no version is ever deleted: refused in the database too, so
-- not even a direct SQL edit slips past the application's checks unnoticed.
CREATE FUNCTION bim_rule_set_version_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'bim_rule_set_version rows are never deleted' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.status = 'published' THEN
        RAISE EXCEPTION 'published bim_rule_set_version % is immutable', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER bim_rule_set_version_frozen BEFORE UPDATE OR DELETE ON bim_rule_set_version
    FOR EACH ROW EXECUTE FUNCTION bim_rule_set_version_frozen();

-- History: one row per save of a draft (and one for its creation, content_before NULL); the number of
-- rows of a version is its revision, which an editor sends back to detect a concurrent edit.
-- changed: the paths that differ ("rules.PJS003.params", "ids", …), for the history list.
CREATE TABLE bim_rule_set_change (
    id              uuid PRIMARY KEY,
    version_id      uuid NOT NULL REFERENCES bim_rule_set_version (id),
    at              timestamptz NOT NULL DEFAULT now(),
    by              uuid NOT NULL REFERENCES app_user (id),
    summary         text NOT NULL,
    changed         text[] NOT NULL DEFAULT '{}',
    content_before  jsonb,
    content_after   jsonb NOT NULL
);
CREATE INDEX bim_rule_set_change_version_idx ON bim_rule_set_change (version_id, at);

-- The published rule-set version a bid session evaluates models with (checked by the application:
-- a foreign key cannot say "published").
ALTER TABLE bid_session ADD COLUMN rule_set_version_id uuid REFERENCES bim_rule_set_version (id);

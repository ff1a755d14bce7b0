-- 开工一件事 foundations: the working-day calendar as data (seeded from chinese-calendar, editable by an
-- operator, so a corrected State Council notice needs no release) and the approval item catalogue as
-- versioned data (one draft at a time; published versions immutable, every case records the version it
-- ran under).

CREATE TABLE workday_calendar (
    day         date PRIMARY KEY,
    is_workday  boolean NOT NULL,
    note        text NOT NULL DEFAULT '',               -- 国庆节 · 调休上班 · …
    source      text NOT NULL DEFAULT 'chinese-calendar',  -- or 'operator' once edited
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE approval_catalogue (
    id          uuid PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    created_by  uuid NOT NULL REFERENCES app_user (id),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- content: {"title", "bundles", "fields", "items"} (server/approval/catalogue.py); content_sm3 is the SM3
-- of its canonical JSON, set at publish. revision counts the saves of a draft (stale saves: 409).
CREATE TABLE approval_catalogue_version (
    id            uuid PRIMARY KEY,
    catalogue_id  uuid NOT NULL REFERENCES approval_catalogue (id),
    version       integer NOT NULL CHECK (version > 0),
    status        text NOT NULL CHECK (status IN ('draft', 'published')),
    content       jsonb NOT NULL,
    content_sm3   text CHECK (content_sm3 ~ '^[0-9a-f]{64}$'),
    revision      integer NOT NULL DEFAULT 1 CHECK (revision > 0),
    summary       text NOT NULL DEFAULT '',
    created_by    uuid NOT NULL REFERENCES app_user (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_by  uuid REFERENCES app_user (id),
    published_at  timestamptz,
    UNIQUE (catalogue_id, version),
    CHECK ((status = 'published') = (content_sm3 IS NOT NULL AND published_by IS NOT NULL
                                     AND published_at IS NOT NULL))
);
CREATE UNIQUE INDEX approval_catalogue_version_one_draft ON approval_catalogue_version (catalogue_id)
    WHERE status = 'draft';

CREATE FUNCTION approval_catalogue_version_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'approval_catalogue_version rows are never deleted'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.status = 'published' THEN
        RAISE EXCEPTION 'published approval_catalogue_version % is immutable', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER approval_catalogue_version_frozen BEFORE UPDATE OR DELETE ON approval_catalogue_version
    FOR EACH ROW EXECUTE FUNCTION approval_catalogue_version_frozen();

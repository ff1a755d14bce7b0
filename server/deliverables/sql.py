"""SQL of the deliverables (出具文件)."""

COLUMNS = """
    d.id, d.kind, d.title, d.project_id, d.source_doc_id, d.source_version_id, d.series, d.revision,
    d.status, d.content_sm3, d.files, d.pages, d.sheet_numbers, d.problems, d.statement, d.signature,
    d.org_id, d.created_at, d.issued_at, d.revoked_at, d.revoke_reason"""

LOCK_SERIES = "SELECT pg_advisory_xact_lock(hashtextextended('deliverable:' || $1, 0))"
NEXT_REVISION = "SELECT coalesce(max(revision), 0) + 1 FROM deliverable WHERE series = $1"
INSERT = """
    INSERT INTO deliverable (id, kind, title, project_id, source_doc_id, source_version_id, series, revision,
                             data_sealed, content_sm3, created_by, org_id)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"""
ONE = f"SELECT {COLUMNS} FROM deliverable d WHERE d.id = $1"  # noqa: S608 - a constant column list, no input
LOCK_ONE = f"SELECT {COLUMNS} FROM deliverable d WHERE d.id = $1 FOR UPDATE"  # noqa: S608
OF_PROJECT = f"""
    SELECT {COLUMNS} FROM deliverable d WHERE d.project_id = $1 ORDER BY d.created_at DESC, d.id LIMIT 500"""  # noqa: S608
LATEST_ISSUED = """
    SELECT max(revision) FROM deliverable WHERE series = $1 AND status IN ('issued', 'revoked')"""
PROJECT_NAME = "SELECT name FROM project WHERE id = $1"

# the worker
LOAD = """
    SELECT id, kind, revision, status, data_sealed, content_sm3, created_at FROM deliverable WHERE id = $1"""
START = "UPDATE deliverable SET status = 'rendering' WHERE id = $1 AND status IN ('queued', 'rendering')"
RENDERED = """
    UPDATE deliverable SET status = 'draft', files = $2, pages = $3, sheet_numbers = $4, rendered_at = now()
    WHERE id = $1 AND status = 'rendering'"""
FAILED = """
    UPDATE deliverable SET status = 'failed', problems = $2, rendered_at = now()
    WHERE id = $1 AND status IN ('queued', 'rendering')"""
INSERT_BLOB = """
    INSERT INTO file_blob (sm3, size, media_type) VALUES ($1, $2, $3) ON CONFLICT (sm3) DO NOTHING"""
STALE = """
    SELECT id FROM deliverable
    WHERE (status = 'queued' AND created_at < now() - interval '2 minutes')
       OR (status = 'rendering' AND created_at < now() - interval '15 minutes')
    ORDER BY created_at LIMIT 100"""

# issuing
ISSUE = """
    UPDATE deliverable SET status = 'issued', statement = $2, signature = $3, issued_at = $4, issued_by = $5
    WHERE id = $1 AND status = 'draft'"""
REVOKE = """
    UPDATE deliverable SET status = 'revoked', revoked_at = now(), revoked_by = $2, revoke_reason = $3
    WHERE id = $1 AND status = 'issued'"""

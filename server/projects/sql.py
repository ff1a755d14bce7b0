"""SQL of the project registry."""

PROJECT_OWNER = "SELECT owner_org_id FROM project WHERE id = $1"

# Two statements, not one with "$1 OR owner = $2": a shared generic plan would scan for everyone.
_LIST = """
    SELECT p.id, p.code, p.name, o.name AS owner_org_name, p.created_at, a.archive_no
    FROM project p
    JOIN organization o ON o.id = p.owner_org_id
    LEFT JOIN project_archive a ON a.project_id = p.id
    {where}
    ORDER BY p.created_at DESC, p.id
    LIMIT $1"""
LIST_ALL = _LIST.format(where="")
LIST_OF_ORG = _LIST.format(where="WHERE p.owner_org_id = $2")

LOCK_PROJECT = "SELECT id, code, name FROM project WHERE id = $1 FOR NO KEY UPDATE"

OPEN_ARCHIVE = """
    INSERT INTO project_archive (project_id, archive_no, manifest)
    VALUES ($1, 'DA' || to_char(now() AT TIME ZONE 'Asia/Shanghai', 'YYYY') ||
                lpad(nextval('project_archive_no_seq')::text, 6, '0'), $2)
    ON CONFLICT (project_id) DO NOTHING"""

ARCHIVE_OF = "SELECT archive_no, manifest, opened_at FROM project_archive WHERE project_id = $1"

PROJECT_BY_CODE = "SELECT id, owner_org_id, name FROM project WHERE code = $1"

DEPARTMENTS = "SELECT id, name FROM organization WHERE kind = 'department' AND id = ANY($1::uuid[])"

"""SQL of resumable uploads (`file_upload`)."""

INSERT = """
    INSERT INTO file_upload (id, owner_id, org_id, kind, drawing_id, bid_id, upload_length, upload_offset,
                             metadata, file_name, parts, expires_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
    RETURNING *"""

GET = "SELECT * FROM file_upload WHERE id = $1"

# The offset moves only from where this writer found it: a stale writer cannot move it back.
ADVANCE = """
    UPDATE file_upload SET upload_offset = $3, expires_at = $4, media_type = COALESCE($5, media_type)
    WHERE id = $1 AND upload_offset = $2 AND completed_at IS NULL
    RETURNING *"""

COMPLETE = """
    UPDATE file_upload SET completed_at = now(), blob_sm3 = $2, media_type = $3
    WHERE id = $1 AND completed_at IS NULL
    RETURNING *"""

DELETE = "DELETE FROM file_upload WHERE id = $1"
DELETE_MANY = "DELETE FROM file_upload WHERE id = ANY($1::uuid[])"

LOCK_ORG = "SELECT pg_advisory_xact_lock(hashtextextended('file-quota:' || $1::uuid::text, 0))"

# Bytes an enterprise uses: unfinished uploads (reserved at their full length) and the distinct files
# its projects' drawings point at.
ORG_USAGE = """
    SELECT COALESCE((SELECT sum(upload_length) FROM file_upload
                     WHERE org_id = $1 AND completed_at IS NULL AND kind <> 'final'), 0)
         + COALESCE((SELECT sum(b.size) FROM file_blob b WHERE b.sm3 IN (
               SELECT v.blob_sm3 FROM drawing_version v
               JOIN drawing d ON d.id = v.drawing_id JOIN project p ON p.id = d.project_id
               WHERE p.owner_org_id = $1
               UNION SELECT c.blob_sm3 FROM bim_check c WHERE c.org_id = $1)), 0)"""

DRAWING_PROJECT = "SELECT project_id FROM drawing WHERE id = $1"

EXPIRED = """
    SELECT id FROM file_upload WHERE completed_at IS NULL AND expires_at < now()
    ORDER BY expires_at LIMIT $1"""

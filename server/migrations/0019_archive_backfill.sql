-- The electronic archive started recording documents with 0017; the documents made before it are
-- recorded now, once, as the writers would have: drawing versions (施工图 → 工程建设许可, 竣工图 → 竣工验收)
-- and issued deliverables (by their kind's stage, as server/deliverables/service.py ARCHIVE_STAGES says),
-- at the time they were made. Re-running it adds nothing (each document has one entry).

INSERT INTO project_archive_entry (project_id, stage, kind, title, ref, sm3, by_user, at)
SELECT d.project_id,
       CASE WHEN d.kind = 'as_built' THEN '竣工验收' ELSE '工程建设许可' END,
       'drawing',
       left((CASE WHEN d.kind = 'as_built' THEN '竣工图 ' ELSE '施工图 ' END) || d.number || ' ' || d.title
            || '（第 ' || v.version || ' 版）', 200),
       d.id || ':' || v.version, v.blob_sm3, v.uploaded_by, v.created_at
FROM drawing_version v JOIN drawing d ON d.id = v.drawing_id
ON CONFLICT (project_id, kind, ref) DO NOTHING;

INSERT INTO project_archive_entry (project_id, stage, kind, title, ref, sm3, by_user, at)
SELECT project_id,
       CASE kind WHEN 'construction_permit' THEN '施工许可' WHEN 'utility_service_sheet' THEN '施工许可'
                 WHEN 'fire_acceptance_record' THEN '竣工验收' ELSE '工程建设许可' END,
       'deliverable',
       left(title || '（' || id || '，第 ' || revision || ' 版）', 200),
       id, content_sm3, issued_by, issued_at
FROM deliverable WHERE issued_at IS NOT NULL
ON CONFLICT (project_id, kind, ref) DO NOTHING;

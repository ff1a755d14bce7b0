"""SQL of the drawings register: buildings, catalogue entries, their versions, search, downloads and
packages. Text only; imported by catalogue.py, downloads.py and packages.py.
Must not: hold upload SQL (server/files/sql.py has it).
"""

# Catalogue order everywhere: building name, 施工图 before 竣工图, drawing number.
ORDER = "b.name, d.kind <> 'construction', d.number, d.id"

INSERT_BUILDING = """
    INSERT INTO building (id, project_id, name, code, created_by) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (project_id, name) DO NOTHING
    RETURNING id, project_id, name, code, 0 AS drawings"""
BUILDINGS = """
    SELECT b.id, b.project_id, b.name, b.code, count(d.id) AS drawings
    FROM building b LEFT JOIN drawing d ON d.building_id = b.id
    WHERE b.project_id = $1
    GROUP BY b.id ORDER BY b.name, b.id"""
BUILDINGS_OF_PROJECT = "SELECT id FROM building WHERE project_id = $1 AND id = ANY($2::uuid[])"
DRAWINGS_OF_PROJECT = "SELECT id FROM drawing WHERE project_id = $1 AND id = ANY($2::uuid[])"

# Entries arrive sorted by key, so concurrent imports lock rows in one order. An unchanged entry is not
# rewritten; `inserted` tells new rows from updated ones.
UPSERT_ENTRIES = """
    INSERT INTO drawing (id, project_id, building_id, kind, discipline, number, title)
    SELECT e.id, $1, e.building_id, e.kind, e.discipline, e.number, e.title
    FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[])
         AS e (id, building_id, kind, discipline, number, title)
    ON CONFLICT (building_id, kind, number) DO UPDATE
        SET discipline = EXCLUDED.discipline, title = EXCLUDED.title
        WHERE (drawing.discipline, drawing.title) IS DISTINCT FROM (EXCLUDED.discipline, EXCLUDED.title)
    RETURNING (xmax = 0) AS inserted"""

_DRAWING = """
    SELECT d.id, d.project_id, d.building_id, b.name AS building_name, d.kind, d.discipline, d.number, d.title,
           d.latest_version, lv.version AS lv_version, lv.file_name AS lv_file_name, lv.size AS lv_size,
           lv.media_type AS lv_media_type, lv.blob_sm3 AS lv_sm3, lu.login AS lv_uploaded_by,
           lv.created_at AS lv_created_at
    FROM drawing d
    JOIN building b ON b.id = d.building_id
    LEFT JOIN drawing_version lv ON lv.drawing_id = d.id AND lv.version = d.latest_version
    LEFT JOIN app_user lu ON lu.id = lv.uploaded_by"""
DRAWING = _DRAWING + " WHERE d.id = $1"
DRAWINGS_BY_KEY = (
    _DRAWING
    + """
    JOIN unnest($2::uuid[], $3::text[], $4::text[]) AS k (building_id, kind, number)
      ON k.building_id = d.building_id AND k.kind = d.kind AND k.number = d.number
    WHERE d.project_id = $1"""
)
DRAWING_PROJECT = "SELECT project_id FROM drawing WHERE id = $1"

# $2: an ILIKE pattern (wildcards escaped by the caller); $6: entries having that version.
_SEARCH_WHERE = """
    WHERE d.project_id = $1
      AND ($2::text IS NULL OR d.number ILIKE $2 OR d.title ILIKE $2 OR d.discipline ILIKE $2 OR b.name ILIKE $2)
      AND ($3::uuid IS NULL OR d.building_id = $3)
      AND ($4::text IS NULL OR d.discipline = $4)
      AND ($5::text IS NULL OR d.kind = $5)
      AND ($6::int IS NULL OR EXISTS (SELECT 1 FROM drawing_version v WHERE v.drawing_id = d.id AND v.version = $6))"""
SEARCH = _DRAWING + _SEARCH_WHERE + f" ORDER BY {ORDER} LIMIT $7 OFFSET $8"
SEARCH_COUNT = "SELECT count(*) FROM drawing d JOIN building b ON b.id = d.building_id" + _SEARCH_WHERE  # noqa: S608

VERSIONS = """
    SELECT v.version, v.file_name, v.size, v.media_type, v.blob_sm3 AS sm3, u.login AS uploaded_by, v.created_at
    FROM drawing_version v JOIN app_user u ON u.id = v.uploaded_by
    WHERE v.drawing_id = $1 ORDER BY v.version DESC"""
VERSION_FILE = """
    SELECT v.drawing_id, v.version, v.file_name, v.size, v.media_type, v.blob_sm3 AS sm3, v.created_at
    FROM drawing_version v WHERE v.drawing_id = $1 AND v.version = $2"""

PROJECT_NAME = "SELECT name FROM project WHERE id = $1"
# The latest version of every selected entry that has one; $5 = the package limit + 1.
PACKAGE_FILES = f"""
    SELECT d.id, b.name AS building_name, d.kind, d.number, d.title, v.version, v.file_name, v.size,
           v.blob_sm3 AS sm3, v.created_at
    FROM drawing d
    JOIN building b ON b.id = d.building_id
    JOIN drawing_version v ON v.drawing_id = d.id AND v.version = d.latest_version
    WHERE d.project_id = $1 AND (d.building_id = ANY($2::uuid[]) OR d.id = ANY($3::uuid[]))
      AND ($4::text[] IS NULL OR d.kind = ANY($4::text[]))
    ORDER BY {ORDER} LIMIT $5"""  # noqa: S608 - constant text, no input

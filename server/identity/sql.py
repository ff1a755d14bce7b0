"""SQL of the identity domain."""

_USER_COLUMNS = """
    u.id, u.login, u.org_id, o.name AS org_name, o.kind AS org_kind, u.role, u.status, u.name_sealed,
    u.phone_sealed, u.password_hash, u.password_changed_at, u.acl_mac"""

USER_BY_LOGIN = f"""
    SELECT {_USER_COLUMNS} FROM app_user u JOIN organization o ON o.id = u.org_id
    WHERE u.login = $1"""  # noqa: S608 - a constant column list, no input

USER_BY_PHONE_INDEX = f"""
    SELECT {_USER_COLUMNS} FROM app_user u JOIN organization o ON o.id = u.org_id
    WHERE u.phone_index = $1"""  # noqa: S608

USER_BY_ID = f"""
    SELECT {_USER_COLUMNS} FROM app_user u JOIN organization o ON o.id = u.org_id
    WHERE u.id = $1"""  # noqa: S608

ALL_USERS = f"""
    SELECT {_USER_COLUMNS} FROM app_user u JOIN organization o ON o.id = u.org_id
    ORDER BY o.kind, o.name, u.login
    LIMIT $1"""  # noqa: S608

INSERT_USER = """
    INSERT INTO app_user (id, login, org_id, role, status, name_sealed, phone_sealed, phone_index,
                          id_card_sealed, id_card_index, password_hash, password_changed_at, acl_mac)
    VALUES ($1, $2, $3, $4, 'active', $5, $6, $7, $8, $9, $10, CASE WHEN $10::text IS NULL THEN NULL ELSE now() END,
            $11)"""

SET_PASSWORD = "UPDATE app_user SET password_hash = $2, password_changed_at = now() WHERE id = $1"  # noqa: S105
REMEMBER_PASSWORD = "INSERT INTO password_history (user_id, password_hash) VALUES ($1, $2)"  # noqa: S105
RECENT_PASSWORDS = """
    SELECT password_hash FROM password_history WHERE user_id = $1 ORDER BY changed_at DESC LIMIT $2"""
SET_ROLE_AND_STATUS = "UPDATE app_user SET role = $2, status = $3, acl_mac = $4 WHERE id = $1"
SET_PHONE = "UPDATE app_user SET phone_sealed = $2, phone_index = $3 WHERE id = $1"
LOCK_USER = "SELECT id FROM app_user WHERE id = $1 FOR NO KEY UPDATE"

SEALED_VALUES = """
    SELECT id, name_sealed, phone_sealed, id_card_sealed FROM app_user WHERE id > $1 ORDER BY id LIMIT $2"""
# Optimistic: a row changed since it was read was written by the application with the current key.
RESEAL = """
    UPDATE app_user SET name_sealed = $2, phone_sealed = $3, id_card_sealed = $4
    WHERE id = $1 AND name_sealed IS NOT DISTINCT FROM $5 AND phone_sealed IS NOT DISTINCT FROM $6
      AND id_card_sealed IS NOT DISTINCT FROM $7"""

ORG_BY_CODE = "SELECT id FROM organization WHERE code = $1"

DEMO_USERS = """
    SELECT u.login, u.role, o.name AS org_name
    FROM app_user u JOIN organization o ON o.id = u.org_id
    WHERE u.status = 'active'
    ORDER BY o.kind, u.login"""

ALL_ORGS = "SELECT id, name, kind FROM organization ORDER BY kind, name LIMIT $1"

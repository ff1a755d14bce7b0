"""SQL of the identity domain."""

USER_BY_LOGIN = """
    SELECT u.id, u.login, u.display_name, u.org_id, o.name AS org_name, u.role
    FROM app_user u JOIN organization o ON o.id = u.org_id
    WHERE u.login = $1"""

DEMO_USERS = """
    SELECT u.login, u.display_name, u.role, o.name AS org_name
    FROM app_user u JOIN organization o ON o.id = u.org_id
    ORDER BY o.kind, u.login"""

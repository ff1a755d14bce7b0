"""SQL of the audit log."""

# Serialises appenders so that each entry chains onto the one before it; held to the end of the
# caller's transaction, so the business write and its audit entry commit (or not) together.
LOCK_CHAIN = "SELECT pg_advisory_xact_lock(7406001)"

LAST = "SELECT seq, mac FROM audit_entry ORDER BY seq DESC LIMIT 1"

INSERT = """
    INSERT INTO audit_entry
        (seq, at, action, outcome, actor_id, actor_login, org_id, ip, target, detail, prev_mac, mac)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8::inet, $9, $10, $11, $12)"""

CHAIN_AFTER = """
    SELECT seq, at, action, outcome, actor_id, actor_login, org_id, host(ip) AS ip, target, detail,
           prev_mac, mac
    FROM audit_entry WHERE seq > $1 ORDER BY seq LIMIT $2"""

SEARCH = """
    SELECT seq, at, action, outcome, actor_id, actor_login, org_id, host(ip) AS ip, target, detail,
           prev_mac, mac
    FROM audit_entry
    WHERE ($1::text IS NULL OR actor_login = $1)
      AND ($2::text IS NULL OR action LIKE $2 || '%')
      AND ($3::text IS NULL OR target = $3)
      AND ($4::timestamptz IS NULL OR at >= $4)
      AND ($5::timestamptz IS NULL OR at < $5)
      AND ($6::bigint IS NULL OR seq < $6)
    ORDER BY seq DESC
    LIMIT $7"""

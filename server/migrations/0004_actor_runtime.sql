-- The durable actor runtime: fencing tokens, snapshots and timers.

-- The highest lease fencing token that has written an actor's journal. An append carrying a lower
-- token comes from a node that lost the actor's lease and is refused (see actors/journal.py).
CREATE TABLE actor_fence (
    actor_kind  text NOT NULL,
    actor_id    uuid NOT NULL,
    token       bigint NOT NULL,
    PRIMARY KEY (actor_kind, actor_id)
);

-- The latest snapshot of an actor's state: activation loads it, then replays the events after `seq`.
CREATE TABLE actor_snapshot (
    actor_kind  text NOT NULL,
    actor_id    uuid NOT NULL,
    seq         bigint NOT NULL CHECK (seq > 0),
    version     integer NOT NULL,
    state       jsonb NOT NULL,
    taken_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (actor_kind, actor_id)
);

-- Durable timers (deadlines, reminders, escalations): a message delivered to an actor at `fire_at`,
-- on whichever node owns it then. One timer per (actor, key); scheduling a key again moves it.
CREATE TABLE actor_timer (
    actor_kind     text NOT NULL,
    actor_id       uuid NOT NULL,
    key            text NOT NULL,
    fire_at        timestamptz NOT NULL,
    message        jsonb NOT NULL,
    claimed_until  timestamptz,
    attempts       integer NOT NULL DEFAULT 0,
    PRIMARY KEY (actor_kind, actor_id, key)
);
CREATE INDEX actor_timer_due_idx ON actor_timer (fire_at);

-- Permissions whose default grants have been written. A permission added by a later release gets its
-- default grants once (server/identity/acl.py), and a grant an administrator revoked stays revoked.
CREATE TABLE permission_introduced (
    permission  text PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now()
);
INSERT INTO permission_introduced (permission)
SELECT DISTINCT permission FROM role_permission;

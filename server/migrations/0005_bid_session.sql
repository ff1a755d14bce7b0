-- Bid evaluation sessions (评标会议): the organising unit, who set it up, and its experts. The live
-- state (presence, annotations, reminders) is the bid actor's journal; these rows decide who may see
-- a session and list it.

CREATE TABLE bid_session (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    org_id      uuid NOT NULL REFERENCES organization (id),
    created_by  uuid NOT NULL REFERENCES app_user (id),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bid_session_org_idx ON bid_session (org_id, created_at DESC);

CREATE TABLE bid_session_expert (
    session_id  uuid NOT NULL REFERENCES bid_session (id),
    user_id     uuid NOT NULL REFERENCES app_user (id),
    PRIMARY KEY (session_id, user_id)
);
-- "The sessions I am an expert of" reads by user.
CREATE INDEX bid_session_expert_user_idx ON bid_session_expert (user_id);

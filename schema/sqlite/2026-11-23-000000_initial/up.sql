-- Contacts the bridge looks callers up in, with their numbers in E.164 (with the '+').
CREATE TABLE contacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    external_id TEXT,
    name TEXT NOT NULL,
    company TEXT,
    url TEXT
);
CREATE UNIQUE INDEX contacts_external_id ON contacts (external_id);

CREATE TABLE contact_phones (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    phone_e164 TEXT NOT NULL,
    label TEXT
);
CREATE INDEX contact_phones_e164 ON contact_phones (phone_e164);
CREATE UNIQUE INDEX contact_phones_unique ON contact_phones (contact_id, phone_e164);

-- Dialled numbers (DNIS) and the service or campaign they stand for.
CREATE TABLE dnis_services (
    dnis TEXT PRIMARY KEY NOT NULL,
    service TEXT NOT NULL,
    campaign TEXT
);

-- One row per call.
CREATE TABLE call_log (
    call_id TEXT PRIMARY KEY NOT NULL,
    switch TEXT NOT NULL,
    direction TEXT NOT NULL,
    ani TEXT,
    ani_e164 TEXT,
    dnis TEXT,
    queue TEXT,
    agent TEXT,
    extension TEXT,
    contact_id INTEGER,
    offered_at TIMESTAMP NOT NULL,
    answered_at TIMESTAMP,
    ended_at TIMESTAMP,
    queue_s DOUBLE,
    ring_s DOUBLE,
    talk_s DOUBLE,
    hold_s DOUBLE,
    acw_s DOUBLE,
    outcome TEXT NOT NULL,
    transferred_to TEXT,
    source TEXT NOT NULL,
    raw TEXT
);
CREATE INDEX call_log_offered_at ON call_log (offered_at);
CREATE INDEX call_log_ani_e164 ON call_log (ani_e164);
CREATE INDEX call_log_contact ON call_log (contact_id);

-- Agent states: one row per stretch of time an agent spent in a state.
CREATE TABLE agent_states (
    id TEXT PRIMARY KEY NOT NULL,
    agent TEXT NOT NULL,
    extension TEXT,
    state TEXT NOT NULL,
    reason TEXT,
    started_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP
);
CREATE INDEX agent_states_agent_started ON agent_states (agent, started_at);

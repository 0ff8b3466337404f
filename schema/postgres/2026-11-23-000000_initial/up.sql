-- The bridge's tables on PostgreSQL: the same columns as the SQLite schema (its three
-- migrations in one), with PostgreSQL's types.

-- Contacts the bridge looks callers up in, with their numbers in E.164 (with the '+').
CREATE TABLE contacts (
    id SERIAL PRIMARY KEY,
    external_id TEXT,
    name TEXT NOT NULL,
    company TEXT,
    url TEXT,
    -- Data-directed routing: where the switch should send this contact's calls.
    route TEXT
);
CREATE UNIQUE INDEX contacts_external_id ON contacts (external_id);

CREATE TABLE contact_phones (
    id SERIAL PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    phone_e164 TEXT NOT NULL,
    label TEXT
);
CREATE INDEX contact_phones_e164 ON contact_phones (phone_e164);
-- Suffix look-ups (`LIKE '%4155550123'`) of national numbers.
CREATE INDEX contact_phones_e164_pattern ON contact_phones (phone_e164 text_pattern_ops);
CREATE UNIQUE INDEX contact_phones_unique ON contact_phones (contact_id, phone_e164);

-- Dialled numbers (DNIS) and the service or campaign they stand for.
CREATE TABLE dnis_services (
    dnis TEXT PRIMARY KEY,
    service TEXT NOT NULL,
    campaign TEXT
);

-- One row per call.
CREATE TABLE call_log (
    call_id TEXT PRIMARY KEY,
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
    queue_s DOUBLE PRECISION,
    ring_s DOUBLE PRECISION,
    talk_s DOUBLE PRECISION,
    hold_s DOUBLE PRECISION,
    acw_s DOUBLE PRECISION,
    outcome TEXT NOT NULL,
    transferred_to TEXT,
    source TEXT NOT NULL,
    raw TEXT,
    -- A completed-call record (SMDR/CDR) is stored once: see the SQLite migration.
    record_key TEXT
);
CREATE INDEX call_log_offered_at ON call_log (offered_at);
CREATE INDEX call_log_ani_e164 ON call_log (ani_e164);
CREATE INDEX call_log_contact ON call_log (contact_id);
CREATE UNIQUE INDEX call_log_record_key ON call_log (record_key);

-- Agent states: one row per stretch of time an agent spent in a state.
CREATE TABLE agent_states (
    id TEXT PRIMARY KEY,
    agent TEXT NOT NULL,
    extension TEXT,
    state TEXT NOT NULL,
    reason TEXT,
    started_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP
);
CREATE INDEX agent_states_agent_started ON agent_states (agent, started_at);

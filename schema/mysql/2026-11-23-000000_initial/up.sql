-- The bridge's tables on MySQL/MariaDB: the same columns as the SQLite schema (its
-- three migrations in one). Indexed text columns are VARCHARs (MySQL indexes no
-- TEXT without a prefix length), times are DATETIME(6) (microseconds, no time-zone
-- conversion: the bridge stores UTC), and the character set is utf8mb4.

-- Contacts the bridge looks callers up in, with their numbers in E.164 (with the '+').
CREATE TABLE contacts (
    id INTEGER PRIMARY KEY AUTO_INCREMENT,
    external_id VARCHAR(191),
    name TEXT NOT NULL,
    company TEXT,
    url TEXT,
    -- Data-directed routing: where the switch should send this contact's calls.
    route VARCHAR(64)
) CHARACTER SET utf8mb4;
CREATE UNIQUE INDEX contacts_external_id ON contacts (external_id);

CREATE TABLE contact_phones (
    id INTEGER PRIMARY KEY AUTO_INCREMENT,
    contact_id INTEGER NOT NULL,
    phone_e164 VARCHAR(32) NOT NULL,
    label VARCHAR(191),
    FOREIGN KEY (contact_id) REFERENCES contacts (id) ON DELETE CASCADE
) CHARACTER SET utf8mb4;
CREATE INDEX contact_phones_e164 ON contact_phones (phone_e164);
CREATE UNIQUE INDEX contact_phones_unique ON contact_phones (contact_id, phone_e164);

-- Dialled numbers (DNIS) and the service or campaign they stand for.
CREATE TABLE dnis_services (
    dnis VARCHAR(191) PRIMARY KEY,
    service TEXT NOT NULL,
    campaign TEXT
) CHARACTER SET utf8mb4;

-- One row per call.
CREATE TABLE call_log (
    call_id VARCHAR(64) PRIMARY KEY,
    switch VARCHAR(191) NOT NULL,
    direction VARCHAR(16) NOT NULL,
    ani VARCHAR(191),
    ani_e164 VARCHAR(32),
    dnis VARCHAR(191),
    queue VARCHAR(191),
    agent VARCHAR(191),
    extension VARCHAR(191),
    contact_id INTEGER,
    offered_at DATETIME(6) NOT NULL,
    answered_at DATETIME(6),
    ended_at DATETIME(6),
    queue_s DOUBLE,
    ring_s DOUBLE,
    talk_s DOUBLE,
    hold_s DOUBLE,
    acw_s DOUBLE,
    outcome VARCHAR(32) NOT NULL,
    transferred_to VARCHAR(191),
    source VARCHAR(16) NOT NULL,
    raw TEXT,
    -- A completed-call record (SMDR/CDR) is stored once: see the SQLite migration.
    record_key VARCHAR(64)
) CHARACTER SET utf8mb4;
CREATE INDEX call_log_offered_at ON call_log (offered_at);
CREATE INDEX call_log_ani_e164 ON call_log (ani_e164);
CREATE INDEX call_log_contact ON call_log (contact_id);
CREATE UNIQUE INDEX call_log_record_key ON call_log (record_key);

-- Agent states: one row per stretch of time an agent spent in a state.
CREATE TABLE agent_states (
    id VARCHAR(64) PRIMARY KEY,
    agent VARCHAR(191) NOT NULL,
    extension VARCHAR(191),
    state VARCHAR(32) NOT NULL,
    reason VARCHAR(191),
    started_at DATETIME(6) NOT NULL,
    ended_at DATETIME(6)
) CHARACTER SET utf8mb4;
CREATE INDEX agent_states_agent_started ON agent_states (agent, started_at);

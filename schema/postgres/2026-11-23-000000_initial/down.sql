DROP TABLE agent_states;
DROP TABLE call_log;
DROP TABLE dnis_services;
DROP TABLE contact_phones;
DROP TABLE contacts;

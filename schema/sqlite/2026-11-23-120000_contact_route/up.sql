-- Data-directed routing: where the switch should send this contact's calls when it
-- asks (a CSTA RouteRequest), e.g. a priority queue for key accounts.
ALTER TABLE contacts ADD COLUMN route TEXT;

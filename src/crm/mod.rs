//! The CRM store: contacts and their numbers, the DNIS → service map, the call log and
//! the agent-state journal, through diesel.
//!
//! - [`db`]: opening, pooling and migrating the database; [`jobs`]: running work on
//!   its connections from async code; [`connector`]: reaching a
//!   database that was not there when the daemon started; [`db_tls`]: TLS to the
//!   database servers.
//! - [`schema`], [`models`]: tables and rows; [`outcome`]: how a call ended, as stored.
//! - [`phone`]: E.164 normalisation of ANIs.
//! - [`lookup`]: caller and service look-up; [`cache`]: the engine's look-up cache.
//! - [`lookup_sql`]: callers looked up in an existing CRM schema (`[crm] lookup_sql`);
//!   [`log_sql`]: calls written into the CRM's own activity table (`[crm] log_sql`);
//!   [`statement`]: the named parameters of both.
//! - [`writes`]: the idempotent writes the bridge makes; [`journal`]: where they wait
//!   on disk while the database is down.
//! - [`import`]: contacts from CSV; [`seed`]: the demo's contacts.

pub mod cache;
pub mod connector;
pub mod db;
pub mod db_tls;
pub mod import;
pub mod jobs;
pub mod journal;
pub mod log_sql;
pub mod lookup;
pub mod lookup_sql;
pub mod models;
pub mod outcome;
pub mod phone;
pub mod schema;
pub mod seed;
pub mod statement;
pub mod writes;

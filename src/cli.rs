//! The command line: one subcommand per job (docs/operations.md).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "ctibridge",
    version,
    about = "CTI middleware: legacy PBX/ACD switches to CRM applications over WebSocket"
)]
pub struct Cli {
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a simulated call centre: simulator switch, SQLite with demo contacts, web pages.
    Demo {
        /// Address to listen on (loopback only).
        #[arg(long, default_value = "127.0.0.1:8765")]
        listen: SocketAddr,
        /// Where the demo keeps its database.
        #[arg(long, default_value = "ctibridge-demo")]
        data_dir: PathBuf,
        /// Print the demo's configuration (a starting point for your own) and exit.
        #[arg(long)]
        print_config: bool,
    },
    /// Run the daemon with a configuration file.
    Run {
        #[arg(long, short)]
        config: PathBuf,
        /// Override `[server] listen`.
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Check a configuration file without starting anything.
    CheckConfig { file: PathBuf },
    /// Create or upgrade the database schema.
    Migrate {
        #[arg(long)]
        database: String,
    },
    /// Manage CRM contacts.
    Contacts {
        #[command(subcommand)]
        command: ContactsCommand,
    },
    /// Agent or queue report for a period, from the recorded data.
    Report(ReportArgs),
    /// Print what an adapter makes of a capture (a CSTA stream, an SMDR printout), one
    /// JSON event per line.
    Decode {
        /// The adapter whose decoder to use (`csta`, `smdr`, …).
        #[arg(long)]
        adapter: String,
        /// The adapter's format: an SMDR format name or file, a CSTA framing, or
        /// `ber` for CSTA ASN.1 BER (length-prefixed APDUs).
        #[arg(long)]
        format: Option<String>,
        /// The CSTA phase of a BER capture: 2 (ECMA-217/218) or 3 (ECMA-285, the
        /// default).
        #[arg(long)]
        phase: Option<String>,
        /// Country for the `*_e164` forms of numbers written without a country code.
        #[arg(long, default_value = "US")]
        country: String,
        /// The capture; `-` reads stdin.
        file: PathBuf,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Measure the whole pipeline on loopback (load source, engine, database, hub,
    /// WebSocket clients in a child process) and print one JSON object.
    Bench(BenchArgs),
    /// The bench's client process (started by `bench`, not by hand).
    #[command(hide = true)]
    BenchClients {
        #[arg(long)]
        url: String,
        #[arg(long)]
        agents: usize,
        #[arg(long)]
        supervisors: usize,
        #[arg(long)]
        calls_complete: bool,
    },
    /// The bench's AMI load generator (started by `bench --adapter ami`, not by hand).
    #[command(hide = true)]
    BenchAmiSwitch {
        #[arg(long)]
        extensions: usize,
        #[arg(long)]
        contacts: u64,
        /// AMI events per second, or `max`.
        #[arg(long)]
        rate: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Where the switch events come from.
    #[arg(long, value_enum, default_value_t = crate::bench::Source::Csta)]
    pub adapter: crate::bench::Source,
    /// Agent-scoped clients (each sees one extension's calls).
    #[arg(long, default_value_t = 100)]
    pub clients: usize,
    /// Supervisor clients (each sees every event).
    #[arg(long, default_value_t = 2)]
    pub supervisors: usize,
    /// Switch events per second, or `max` (as fast as the pipeline takes them).
    #[arg(long, default_value = "2000")]
    pub rate: String,
    /// Length of the measured window in seconds.
    #[arg(long, default_value_t = 10)]
    pub secs: u64,
    /// Idle clients to open before the load, to measure memory per connection.
    #[arg(long, default_value_t = 0)]
    pub idle: usize,
    /// Idle clients per client process, at most (tests set a few to use several).
    #[arg(long, default_value_t = crate::bench::idle::PER_PROCESS, hide = true)]
    pub idle_per_process: usize,
    /// Contacts in the generated CRM database.
    #[arg(long, default_value_t = 1_000_000)]
    pub contacts: u64,
    /// Also time the CRM look-up on this PostgreSQL or MySQL/MariaDB database
    /// (`lookup_db_ms`); an empty one is filled with the same generated contacts.
    #[arg(long, value_name = "URL")]
    pub lookup_database: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ContactsCommand {
    /// Import contacts from CSV (columns: name, phone, company, external_id, url, label,
    /// route, country). Good rows are imported and refused rows reported by line
    /// (exit code 1 when any was refused).
    Import {
        #[arg(long)]
        database: String,
        /// Country for numbers written without a country code (a row's `country`
        /// column overrides it).
        #[arg(long, default_value = "US")]
        country: String,
        /// All or nothing: import nothing when any row is refused.
        #[arg(long)]
        strict: bool,
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a new random token and print it with its [[auth.tokens]] entry.
    New {
        #[arg(long, default_value = "crm")]
        name: String,
        #[arg(long, default_value = "agent")]
        role: String,
        /// The agent an agent token is bound to.
        #[arg(long)]
        agent: Option<String>,
    },
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    #[arg(value_enum)]
    pub kind: crate::reports::Kind,
    /// The database to read (or --config).
    #[arg(long, conflicts_with = "config")]
    pub database: Option<String>,
    /// A config file whose `[database]` and `[reports]` to use.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Start: RFC 3339 time or a date (default: today, UTC).
    #[arg(long)]
    pub from: Option<String>,
    /// End: RFC 3339 time or a date, whose whole day counts (default: now).
    #[arg(long)]
    pub to: Option<String>,
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Json,
    Csv,
    Table,
}

//! The `ctibridge` binary: parse the command line, set up logging, run the command.

use clap::Parser;
use ctibridge::cli::{Cli, Command, ContactsCommand, LogFormat, TokenCommand};
use ctibridge::commands::{self, Failure};
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

// mimalloc instead of glibc's malloc: every switch event is allocated on one worker
// thread and freed on another (adapter -> engine -> hub -> sockets), and glibc's
// arenas serialise such frees behind a lock; `bench --adapter ami` spent a third of
// the daemon's CPU in malloc/free before (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = Cli::parse();
    // The bench prints figures; the daemon's routine log lines would drown them.
    let quiet = matches!(
        cli.command,
        Command::Bench(_) | Command::BenchClients { .. } | Command::BenchAmiSwitch { .. }
    );
    let level = if quiet { "warn" } else { "info" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    // Colours only on a terminal: under systemd, or with stderr sent to a file, escape
    // codes would end up in the journal and the log file. NO_COLOR turns them off too.
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    let outcome = match cli.command {
        Command::CheckConfig { file } => commands::check_config::check_config(&file),
        Command::Migrate { database } => commands::migrate::migrate(&database),
        Command::Contacts {
            command:
                ContactsCommand::Import {
                    database,
                    country,
                    strict,
                    file,
                },
        } => commands::contacts::import(&database, &country, strict, &file),
        Command::Token {
            command: TokenCommand::New { name, role, agent },
        } => commands::token::new(&name, &role, agent.as_deref()),
        Command::Report(args) => commands::report::report(args),
        Command::Decode {
            adapter,
            format,
            phase,
            country,
            file,
        } => commands::decode::decode(&adapter, format, phase, &country, &file),
        Command::Demo {
            listen,
            data_dir,
            print_config,
        } => runtime()
            .and_then(|rt| rt.block_on(commands::demo::demo(listen, &data_dir, print_config))),
        Command::Bench(args) => runtime().and_then(|rt| rt.block_on(commands::bench::bench(args))),
        Command::BenchClients {
            url,
            agents,
            supervisors,
            calls_complete,
        } => runtime().and_then(|rt| {
            rt.block_on(commands::bench::clients(
                url,
                agents,
                supervisors,
                calls_complete,
            ))
        }),
        Command::BenchAmiSwitch {
            extensions,
            contacts,
            rate,
        } => runtime()
            .and_then(|rt| rt.block_on(commands::bench::ami_switch(extensions, contacts, &rate))),
        Command::Run { config, listen } => {
            runtime().and_then(|rt| rt.block_on(commands::run::run(&config, listen)))
        }
    };
    if let Err(failure) = outcome {
        eprintln!("error: {}", failure.message);
        std::process::exit(failure.code);
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(format!("cannot start the runtime: {e}")))
}

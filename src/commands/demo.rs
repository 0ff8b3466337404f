//! `ctibridge demo`: the zero-configuration demo.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;

use tokio_util::sync::CancellationToken;

use super::{Failure, Outcome};
use crate::crm::{db, seed};
use crate::daemon::{self, RunOptions};
use crate::demo;

pub async fn demo(listen: SocketAddr, data_dir: &Path, print_config: bool) -> Outcome {
    if !listen.ip().is_loopback() {
        return Err(Failure::config(format!(
            "the demo listens on loopback only (its tokens are public); {listen} is not a loopback address"
        )));
    }
    let text = demo::config_text(listen, data_dir);
    if print_config {
        print!("{text}");
        return Ok(());
    }
    let registry = crate::adapters::registry();
    let loaded = crate::config::load_str(&text, &registry).map_err(Failure::config)?;
    std::fs::create_dir_all(data_dir)
        .map_err(|e| Failure::new(format!("cannot create {}: {e}", data_dir.display())))?;
    let url = loaded.config.database.url.clone();
    let seeded = tokio::task::spawn_blocking(move || -> Result<bool, String> {
        let pool = db::open(&url).map_err(|e| e.to_string())?;
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        seed::seed_demo(&mut conn).map_err(|e| e.to_string())
    })
    .await
    .map_err(Failure::new)?
    .map_err(Failure::new)?;
    if seeded {
        tracing::info!(contacts = seed::DEMO_CONTACTS.len(), "demo contacts seeded");
    }
    let options = RunOptions {
        serve_pages: true,
        on_listening: Box::new(|addr| {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", demo::banner(addr));
            let _ = out.flush();
        }),
        shutdown: CancellationToken::new(),
    };
    daemon::run(loaded, &registry, options)
        .await
        .map_err(Failure::new)
}

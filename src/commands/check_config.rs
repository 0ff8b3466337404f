//! `ctibridge check-config FILE`: validate without starting anything.

use std::path::Path;

use super::{Failure, Outcome};
use crate::auth::Role;

pub fn check_config(file: &Path) -> Outcome {
    let registry = crate::adapters::registry();
    let loaded = crate::config::load_file(file, &registry).map_err(Failure::config)?;
    let c = &loaded.config;
    println!("{}: OK", file.display());
    match &c.server.tls_cert {
        // Both files were read and checked by load_file.
        Some(cert) => println!(
            "  listen: {} (https, wss; certificate {})",
            c.server.listen,
            cert.display()
        ),
        None => println!("  listen: {}", c.server.listen),
    }
    println!("  database: {}", crate::crm::db::redact(&c.database.url));
    for def in &loaded.switches {
        println!(
            "  switch {} ({}): {} device(s)",
            def.settings.name,
            def.settings.adapter,
            def.settings.devices.len()
        );
    }
    println!(
        "  tokens: {} agent, {} supervisor, {} app, {} admin",
        loaded.token_count(Role::Agent),
        loaded.token_count(Role::Supervisor),
        loaded.token_count(Role::App),
        loaded.token_count(Role::Admin)
    );
    if loaded.switches.is_empty() {
        println!("  warning: no [[switch]] is configured; the daemon will serve clients but see no calls");
    }
    if c.auth.tokens.is_empty() {
        println!("  warning: no [[auth.tokens]]: no client can connect (make one with `ctibridge token new`)");
    }
    Ok(())
}

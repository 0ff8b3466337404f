//! `ctibridge demo`: a simulated call centre with no configuration — the simulator
//! switch, an embedded SQLite database seeded with demo contacts, and the agent page
//! and wallboard — listening on loopback only.

use std::net::SocketAddr;
use std::path::Path;

use crate::auth::hash_token;
use crate::crm::seed::{demo_callers, DEMO_SERVICES};

/// The demo's tokens: (role, agent, token). Fixed, so bookmarks survive restarts;
/// acceptable only because the demo listens on loopback.
pub const DEMO_TOKENS: [(&str, Option<&str>, &str); 3] = [
    ("agent", Some("1001"), "demo-agent-1001"),
    ("agent", Some("1002"), "demo-agent-1002"),
    ("supervisor", None, "demo-supervisor"),
];

/// The demo's configuration, as TOML (so `demo --print-config` gives a user a
/// working starting point).
pub fn config_text(listen: SocketAddr, data_dir: &Path) -> String {
    let db = data_dir.join("demo.db");
    let toml_str = |s: &str| toml::Value::String(s.to_string()).to_string();
    let callers: Vec<String> = demo_callers().iter().map(|c| toml_str(c)).collect();
    let dnis: Vec<String> = DEMO_SERVICES
        .iter()
        .map(|(dnis, _, queue)| format!("{} = {}", toml_str(dnis), toml_str(queue)))
        .collect();
    let mut text = format!(
        r#"# ctibridge demo configuration
[server]
listen = {listen}

[database]
url = {db}

[crm]
default_country = "US"

[[switch]]
name = "demo"
adapter = "sim"
devices = ["1001", "1002", "1003", "1004", "1100"]
queues = ["8000", "8001"]
callers = [{callers}]
inbound_calls_per_s = 0.12
answer_after_ms = 6000
talk_ms = 20000
hold_ms = 4000
acw_ms = 6000
abandon_after_ms = 45000
jitter = 0.5
agents = [
  {{ agent = "1001", extension = "1001", state = "ready" }},
  {{ agent = "1002", extension = "1002", state = "ready" }},
  {{ agent = "1003", extension = "1003", state = "ready" }},
  {{ agent = "1004", extension = "1004", state = "not_ready" }},
]

[switch.dnis]
{dnis}
"#,
        listen = toml_str(&listen.to_string()),
        db = toml_str(&format!("sqlite://{}", db.display())),
        callers = callers.join(", "),
        dnis = dnis.join("\n"),
    );
    for (role, agent, token) in DEMO_TOKENS {
        text.push_str(&format!(
            "\n[[auth.tokens]]\nname = {}\nrole = {}\n",
            toml_str(token),
            toml_str(role)
        ));
        match agent {
            Some(agent) => text.push_str(&format!("agent = {}\n", toml_str(agent))),
            None => text.push_str("extensions = [\"1100\"]\n"),
        }
        text.push_str(&format!("sha256 = {}\n", toml_str(&hash_token(token))));
    }
    text
}

/// The lines `demo` prints once it listens.
pub fn banner(addr: SocketAddr) -> String {
    let mut lines = vec![
        format!("agent page: http://{addr}/"),
        format!("wallboard: http://{addr}/wallboard"),
    ];
    for (role, agent, token) in DEMO_TOKENS {
        lines.push(format!(
            "demo token: role={role} agent={} token={token}",
            agent.unwrap_or("-")
        ));
    }
    lines.push(format!(
        "open as agent 1001: http://{addr}/?token={}   wallboard: http://{addr}/wallboard?token={}",
        DEMO_TOKENS[0].2, DEMO_TOKENS[2].2
    ));
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_config_is_valid() {
        let text = config_text("127.0.0.1:8765".parse().unwrap(), Path::new("demo-data"));
        let loaded = crate::config::load_str(&text, &crate::adapters::registry()).unwrap();
        assert_eq!(loaded.switches.len(), 1);
        assert_eq!(loaded.config.auth.tokens.len(), 3);
    }
}

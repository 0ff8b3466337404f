//! The daemon configuration the bench runs: the generated database, the source as a
//! `[[switch]]` (`csta`, `ami` or `sim`), one token per client (`tokens`), and server
//! limits that do not cut the bench's own clients.

use std::fmt::Write as _;
use std::net::SocketAddr;

use super::{tokens, Options, Source};
use crate::auth::hash_token;

/// Callers the simulator draws from (the first contacts of the database).
const SIM_CALLERS: u64 = 1_000;
/// The simulator's ceiling on generated calls per second.
const SIM_MAX_CALLS_PER_S: f64 = 1_000.0;
/// Switch events the simulator makes per call, roughly: to turn `--rate` into calls.
const SIM_EVENTS_PER_CALL: f64 = 6.0;

fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

pub fn text(options: &Options, url: &str, source: Option<SocketAddr>, contacts: u64) -> String {
    let extensions: Vec<String> = (0..options.clients.max(1))
        .map(|i| quoted(&tokens::extension(i)))
        .collect();
    let mut text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n\n\
         [database]\nurl = {url}\n\n\
         [crm]\ndefault_country = \"US\"\n\n",
        url = quoted(url),
    );
    match (options.source, source) {
        (Source::Csta, Some(addr)) => {
            let _ = write!(
                text,
                "[[switch]]\nname = \"bench\"\nadapter = \"csta\"\nhost = \"127.0.0.1\"\nport = {}\n\
                 heartbeat_s = 0\ndevices = [{}, {}]\n\n",
                addr.port(),
                extensions.join(", "),
                quoted(tokens::IDLE_AGENT),
            );
        }
        (Source::Ami, Some(addr)) => {
            // Long request and ping times: a manager port busy with the load may answer
            // a Ping late, which is not what the bench measures.
            let _ = write!(
                text,
                "[[switch]]\nname = \"bench\"\nadapter = \"ami\"\nhost = \"127.0.0.1\"\nport = {}\n\
                 username = {}\npassword = {}\nqueues = [{}]\nrequest_timeout_s = 30\nping_s = 60\n\
                 devices = [{}, {}]\n\n",
                addr.port(),
                quoted(super::ami_switch::USERNAME),
                quoted(super::ami_switch::SECRET),
                quoted(super::ami_calls::QUEUE),
                extensions.join(", "),
                quoted(tokens::IDLE_AGENT),
            );
        }
        _ => {
            let rate = options
                .rate
                .map_or(SIM_MAX_CALLS_PER_S, |r| r as f64 / SIM_EVENTS_PER_CALL)
                .clamp(0.1, SIM_MAX_CALLS_PER_S);
            let callers: Vec<String> = (0..SIM_CALLERS.min(contacts))
                .map(|k| quoted(&super::contacts::phone(k)))
                .collect();
            let agents: Vec<String> = extensions
                .iter()
                .map(|e| format!("  {{ agent = {e}, extension = {e}, state = \"ready\" }},"))
                .collect();
            let _ = write!(
                text,
                "[[switch]]\nname = \"bench\"\nadapter = \"sim\"\ndevices = [{}, {}]\n\
                 queues = [\"8000\"]\ncallers = [{}]\ninbound_calls_per_s = {rate}\n\
                 answer_after_ms = 50\ntalk_ms = 200\nacw_ms = 0\nabandon_after_ms = 60000\n\
                 agents = [\n{}\n]\n\n[switch.dnis]\n\"8005550100\" = \"8000\"\n\n",
                extensions.join(", "),
                quoted(tokens::IDLE_AGENT),
                callers.join(", "),
                agents.join("\n"),
            );
        }
    }
    for i in 0..options.clients {
        token(
            &mut text,
            &tokens::agent(i),
            "agent",
            Some(&tokens::extension(i)),
        );
    }
    for i in 0..options.supervisors {
        token(&mut text, &tokens::supervisor(i), "supervisor", None);
    }
    token(&mut text, tokens::IDLE, "agent", Some(tokens::IDLE_AGENT));
    text
}

fn token(text: &mut String, token: &str, role: &str, agent: Option<&str>) {
    let _ = write!(
        text,
        "[[auth.tokens]]\nname = {}\nrole = {}\n",
        quoted(token),
        quoted(role)
    );
    if let Some(agent) = agent {
        let _ = writeln!(text, "agent = {}", quoted(agent));
    }
    let _ = write!(text, "sha256 = {}\n\n", quoted(&hash_token(token)));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(source: Source) -> Options {
        Options {
            source,
            clients: 3,
            supervisors: 2,
            rate: Some(600),
            secs: 1,
            idle: 0,
            idle_per_process: 1,
            contacts: 50,
            lookup_database: None,
        }
    }

    #[test]
    fn both_sources_make_a_valid_config() {
        let registry = crate::adapters::registry();
        let csta = text(
            &options(Source::Csta),
            "sqlite://bench.db",
            Some("127.0.0.1:4000".parse().unwrap()),
            50,
        );
        let loaded = crate::config::load_str(&csta, &registry).unwrap();
        assert_eq!(loaded.config.auth.tokens.len(), 6);
        assert_eq!(loaded.switches[0].settings.devices.len(), 4);
        let sim = text(&options(Source::Sim), "sqlite://bench.db", None, 50);
        crate::config::load_str(&sim, &registry).unwrap();
        let ami = text(
            &options(Source::Ami),
            "sqlite://bench.db",
            Some("127.0.0.1:5038".parse().unwrap()),
            50,
        );
        let loaded = crate::config::load_str(&ami, &registry).unwrap();
        assert_eq!(loaded.switches[0].settings.devices.len(), 4);
    }
}

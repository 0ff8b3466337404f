//! Test support for the end-to-end tests against the fake CSTA switch: the switch's
//! agents and ACD group, and the standard daemon config linked to it.

use std::time::Duration;

use ctibridge_csta::fake::{AcdGroup, FakeAgent, FakeConfig, FakeSwitch};

use super::standard_config;

/// The fake switch's agents are the standard config's agent tokens: 1001 and 1002.
pub fn switch_config() -> FakeConfig {
    FakeConfig {
        acd_groups: vec![AcdGroup {
            device: "8000".into(),
            agents: vec!["1001".into(), "1002".into()],
        }],
        agents: ["1001", "1002"]
            .map(|agent| FakeAgent {
                agent: agent.into(),
                password: "1234".into(),
            })
            .to_vec(),
        route_timeout: Duration::from_secs(5),
        ..FakeConfig::default()
    }
}

/// The standard test config with its simulator replaced by a CSTA link to `switch`.
pub fn csta_config(port: u16, dir: &std::path::Path, switch: &FakeSwitch) -> String {
    csta_config_with(port, dir, switch, "")
}

pub fn csta_config_with(
    port: u16,
    dir: &std::path::Path,
    switch: &FakeSwitch,
    extra: &str,
) -> String {
    let standard = standard_config(port, dir, "");
    let start = standard.find("[[switch]]").unwrap();
    let end = standard.find("[[auth.tokens]]").unwrap();
    let link = format!(
        "[[switch]]\nname = \"pbx\"\nadapter = \"csta\"\nhost = \"127.0.0.1\"\nport = {}\n\
         devices = [\"1001\", \"1002\", \"1100\", \"8000\"]\nreconnect_min_s = 0.1\nreconnect_max_s = 0.5\n\
         route_points = [\"7000\"]\nroute_timeout_ms = 800\n{extra}\n",
        switch.addr().port()
    );
    format!("{}{link}{}", &standard[..start], &standard[end..])
}

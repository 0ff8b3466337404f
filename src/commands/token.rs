//! `ctibridge token new`: a random token and the config entry that accepts it.

use super::{Failure, Outcome};
use crate::auth::{hash_token, new_token};

pub fn new(name: &str, role: &str, agent: Option<&str>) -> Outcome {
    if !matches!(role, "agent" | "supervisor" | "app" | "admin") {
        return Err(Failure::config(format!(
            "role `{role}` is not one of agent, supervisor, app, admin"
        )));
    }
    if role == "agent" && agent.is_none() {
        return Err(Failure::config(
            "an agent token needs --agent ID (the agent it acts for)",
        ));
    }
    let token = new_token();
    let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
    println!("token: {token}");
    println!(
        "# Give the token to the client; put this entry in the config (it holds only the hash):"
    );
    println!("[[auth.tokens]]");
    println!("name = {}", quote(name));
    println!("role = {}", quote(role));
    if let Some(agent) = agent {
        println!("agent = {}", quote(agent));
    }
    println!("sha256 = {}", quote(&hash_token(&token)));
    Ok(())
}

//! API tokens: how they are stored (SHA-256, never the token), checked (constant time)
//! and what a token may see and do (its [`Principal`]).

use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// An agent: sees and acts on its own agent and extension(s) only.
    Agent,
    /// Sees everything; supervisor functions (monitor, barge, force release, reports,
    /// other agents' states).
    Supervisor,
    /// A CRM back end: sees everything, may act on any extension, no supervisor functions.
    App,
    /// Everything.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::App => "app",
            Role::Admin => "admin",
        }
    }
}

/// One `[[auth.tokens]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    /// A name for logs (never the token).
    pub name: String,
    pub role: Role,
    /// The agent id an agent token is bound to (for supervisors: optional, their own).
    #[serde(default)]
    pub agent: Option<String>,
    /// Extensions the token may act on. Default: the agent id itself (agent id and
    /// extension are the same number on many switches).
    #[serde(default)]
    pub extensions: Option<Vec<String>>,
    /// Hex SHA-256 of the token.
    pub sha256: String,
}

impl TokenEntry {
    /// Check the entry's own consistency.
    pub fn check(&self) -> Result<(), String> {
        let valid_hash =
            self.sha256.len() == 64 && self.sha256.chars().all(|c| c.is_ascii_hexdigit());
        if !valid_hash {
            return Err("sha256 must be 64 hex digits (the SHA-256 of the token; see `ctibridge token new`)".into());
        }
        if self.role == Role::Agent && self.agent.as_deref().is_none_or(str::is_empty) {
            return Err("an agent token needs `agent = \"…\"` (the agent it is bound to)".into());
        }
        Ok(())
    }

    fn digest(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        // check() guarantees 64 hex digits; a bad entry yields a digest nothing matches.
        let _ = hex::decode_to_slice(&self.sha256, &mut out);
        out
    }

    pub fn principal(&self) -> Principal {
        let extensions = match (&self.extensions, &self.agent) {
            (Some(list), _) => list.clone(),
            (None, Some(agent)) => vec![agent.clone()],
            (None, None) => Vec::new(),
        };
        Principal {
            token: self.name.clone(),
            role: self.role,
            agent: self.agent.clone(),
            extensions,
        }
    }
}

/// Who is connected, as far as permissions go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub token: String,
    pub role: Role,
    pub agent: Option<String>,
    pub extensions: Vec<String>,
}

impl Principal {
    /// Sees every event (supervisors, apps, admins).
    pub fn sees_all(&self) -> bool {
        self.role != Role::Agent
    }

    pub fn may_supervise(&self) -> bool {
        matches!(self.role, Role::Supervisor | Role::Admin)
    }

    /// May act on `device` (answer, dial from, log on at).
    pub fn may_use_device(&self, device: &str) -> bool {
        self.role != Role::Agent || self.extensions.iter().any(|e| e == device)
    }

    /// May act for `agent` (log on, change state).
    pub fn may_act_for_agent(&self, agent: &str) -> bool {
        match self.role {
            Role::Agent => self.agent.as_deref() == Some(agent),
            Role::App | Role::Admin | Role::Supervisor => true,
        }
    }
}

/// The configured tokens, ready for checking.
#[derive(Debug, Clone, Default)]
pub struct TokenStore {
    entries: Vec<([u8; 32], Principal)>,
}

impl TokenStore {
    pub fn new(entries: &[TokenEntry]) -> Self {
        TokenStore {
            entries: entries
                .iter()
                .map(|e| (e.digest(), e.principal()))
                .collect(),
        }
    }

    /// Find the token's principal. Every entry is compared, in constant time each, so
    /// the time taken says nothing about which entry (if any) nearly matched.
    pub fn authenticate(&self, token: &str) -> Option<Principal> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut found = None;
        for (stored, principal) in &self.entries {
            if bool::from(stored.ct_eq(&digest)) && found.is_none() {
                found = Some(principal.clone());
            }
        }
        found
    }
}

/// Hex SHA-256 of a token, as stored in the config.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new random token: 32 bytes from a cryptographic generator seeded by the OS, hex,
/// with a recognisable prefix (so secret scanners can find leaked ones).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("ctb_{}", hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, role: Role, agent: Option<&str>, token: &str) -> TokenEntry {
        TokenEntry {
            name: name.into(),
            role,
            agent: agent.map(String::from),
            extensions: None,
            sha256: hash_token(token),
        }
    }

    #[test]
    fn authenticates_by_hash() {
        let store = TokenStore::new(&[
            entry("a", Role::Agent, Some("1001"), "secret-a"),
            entry("s", Role::Supervisor, None, "secret-s"),
        ]);
        let a = store.authenticate("secret-a").unwrap();
        assert_eq!(a.role, Role::Agent);
        assert_eq!(a.extensions, vec!["1001".to_string()]);
        assert_eq!(
            store.authenticate("secret-s").unwrap().role,
            Role::Supervisor
        );
        assert!(store.authenticate("secret-x").is_none());
        assert!(store.authenticate("").is_none());
    }

    #[test]
    fn agent_scope() {
        let p = entry("a", Role::Agent, Some("1001"), "t").principal();
        assert!(p.may_use_device("1001"));
        assert!(!p.may_use_device("1002"));
        assert!(p.may_act_for_agent("1001"));
        assert!(!p.may_act_for_agent("1002"));
        assert!(!p.may_supervise());
        assert!(!p.sees_all());
    }

    #[test]
    fn new_tokens_are_distinct_and_hashable() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert!(a.starts_with("ctb_") && a.len() == 68);
        let e = entry("x", Role::App, None, &a);
        assert!(e.check().is_ok());
    }

    #[test]
    fn entry_checks() {
        let mut e = entry("x", Role::Agent, None, "t");
        assert!(e.check().unwrap_err().contains("agent"));
        e.agent = Some("1".into());
        e.sha256 = "zz".into();
        assert!(e.check().unwrap_err().contains("sha256"));
    }
}

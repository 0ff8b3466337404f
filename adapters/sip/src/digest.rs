//! HTTP Digest for SIP (RFC 3261 §22, RFC 8760): answering a 401
//! `WWW-Authenticate` or 407 `Proxy-Authenticate` challenge with MD5 or SHA-256,
//! `qop=auth` with a client nonce and a counting nonce-count.
//!
//! rsip has a digest generator, but it writes the nonce-count in decimal (RFC 7616
//! wants 8 hex digits), counts only to 255 and computes `-sess` like the plain
//! algorithm, so the response is computed here (checked against the RFC 2617 and
//! RFC 7616 examples below).

use md5::{Digest as _, Md5};
use sha2::Sha256;

/// An algorithm we answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Md5,
    Sha256,
}

impl Algorithm {
    fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
        }
    }

    fn hash(self, data: &str) -> String {
        match self {
            Algorithm::Md5 => hex::encode(Md5::digest(data.as_bytes())),
            Algorithm::Sha256 => hex::encode(Sha256::digest(data.as_bytes())),
        }
    }
}

/// One challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub nonce: String,
    pub opaque: Option<String>,
    pub algorithm: Algorithm,
    /// The server offered `qop=auth`.
    pub qop_auth: bool,
    /// 407 (answered in Proxy-Authorization) rather than 401.
    pub proxy: bool,
}

/// Why a challenge cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    #[error("no Digest challenge in the {0} response")]
    NoChallenge(u16),
    #[error("the challenge has no {0}")]
    Missing(&'static str),
    #[error("the server asks for algorithm {0}, which is neither MD5 nor SHA-256")]
    Algorithm(String),
    #[error("the server asks for qop {0}, and only `auth` is supported")]
    Qop(String),
}

impl Challenge {
    /// Parse one header value (`Digest realm="…", nonce="…", algorithm=SHA-256, qop="auth"`).
    pub fn parse(value: &str, proxy: bool) -> Result<Challenge, DigestError> {
        let value = value.trim();
        let rest = value
            .get(..6)
            .filter(|s| s.eq_ignore_ascii_case("digest"))
            .map(|_| &value[6..])
            .ok_or(DigestError::NoChallenge(if proxy { 407 } else { 401 }))?;
        let params = params(rest);
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let algorithm = match get("algorithm") {
            None => Algorithm::Md5,
            Some(a) if a.eq_ignore_ascii_case("md5") => Algorithm::Md5,
            Some(a) if a.eq_ignore_ascii_case("sha-256") => Algorithm::Sha256,
            Some(a) => return Err(DigestError::Algorithm(a)),
        };
        let qop_auth = match get("qop") {
            None => false,
            Some(qop)
                if qop
                    .split(',')
                    .any(|q| q.trim().eq_ignore_ascii_case("auth")) =>
            {
                true
            }
            Some(qop) => return Err(DigestError::Qop(qop)),
        };
        Ok(Challenge {
            realm: get("realm").ok_or(DigestError::Missing("realm"))?,
            nonce: get("nonce").ok_or(DigestError::Missing("nonce"))?,
            opaque: get("opaque"),
            algorithm,
            qop_auth,
            proxy,
        })
    }

    /// The challenge to answer among a response's (RFC 8760 §2.4: the server lists
    /// them in its order of preference; take the first we can answer).
    pub fn choose<'a>(
        values: impl Iterator<Item = &'a str>,
        proxy: bool,
        code: u16,
    ) -> Result<Challenge, DigestError> {
        let mut first_error = None;
        for value in values {
            match Challenge::parse(value, proxy) {
                Ok(challenge) => return Ok(challenge),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error.unwrap_or(DigestError::NoChallenge(code)))
    }
}

/// Answers challenges, counting the uses of each nonce.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub username: String,
    pub password: String,
    challenge: Option<Challenge>,
    nonce_count: u32,
}

impl Credentials {
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials {
            username: username.into(),
            password: password.into(),
            challenge: None,
            nonce_count: 0,
        }
    }

    /// Take a new challenge (the nonce count starts again for a new nonce).
    pub fn challenged(&mut self, challenge: Challenge) {
        if self.challenge.as_ref().map(|c| &c.nonce) != Some(&challenge.nonce) {
            self.nonce_count = 0;
        }
        self.challenge = Some(challenge);
    }

    /// The header (name, value) for a request, when a challenge has been received.
    pub fn authorization(&mut self, method: &str, uri: &str) -> Option<(&'static str, String)> {
        let cnonce = hex::encode(rand::random::<[u8; 8]>());
        self.nonce_count += 1;
        let challenge = self.challenge.as_ref()?;
        let value = answer(
            challenge,
            &self.username,
            &self.password,
            method,
            uri,
            &cnonce,
            self.nonce_count,
        );
        let name = if challenge.proxy {
            "Proxy-Authorization"
        } else {
            "Authorization"
        };
        Some((name, value))
    }
}

/// Take a 401/407 `response` to one of our requests: Ok when the request can be
/// sent again with credentials. `challenges` counts the challenges answered in a
/// row; a second one that does not say `stale=true` means the credentials are
/// wrong. Err says why not, naming `peer` ("the PBX").
pub fn take_challenge(
    response: &crate::message::Message,
    code: u16,
    credentials: &mut Option<Credentials>,
    challenges: &mut u8,
    peer: &str,
) -> Result<(), String> {
    let Some(credentials) = credentials else {
        return Err(format!(
            "{code}: {peer} wants credentials; set username and password"
        ));
    };
    *challenges += 1;
    let proxy = code == 407;
    let header = if proxy {
        "proxy-authenticate"
    } else {
        "www-authenticate"
    };
    let stale = response.header_all(header).any(|v| {
        v.to_ascii_lowercase()
            .replace(' ', "")
            .contains("stale=true")
    });
    if *challenges > 1 && !stale {
        return Err(format!("{code}: {peer} refused our credentials"));
    }
    let challenge = Challenge::choose(response.header_all(header), proxy, code)
        .map_err(|e| format!("{code}: {e}"))?;
    credentials.challenged(challenge);
    Ok(())
}

/// The Authorization value for one request.
pub fn answer(
    challenge: &Challenge,
    username: &str,
    password: &str,
    method: &str,
    uri: &str,
    cnonce: &str,
    nonce_count: u32,
) -> String {
    let alg = challenge.algorithm;
    let ha1 = alg.hash(&format!("{username}:{}:{password}", challenge.realm));
    let ha2 = alg.hash(&format!("{method}:{uri}"));
    let nc = format!("{nonce_count:08x}");
    let response = if challenge.qop_auth {
        alg.hash(&format!(
            "{ha1}:{}:{nc}:{cnonce}:auth:{ha2}",
            challenge.nonce
        ))
    } else {
        alg.hash(&format!("{ha1}:{}:{ha2}", challenge.nonce))
    };
    let mut value = format!(
        "Digest username=\"{username}\", realm=\"{}\", nonce=\"{}\", uri=\"{uri}\", response=\"{response}\", algorithm={}",
        challenge.realm,
        challenge.nonce,
        alg.name()
    );
    if challenge.qop_auth {
        value.push_str(&format!(", qop=auth, nc={nc}, cnonce=\"{cnonce}\""));
    }
    if let Some(opaque) = &challenge.opaque {
        value.push_str(&format!(", opaque=\"{opaque}\""));
    }
    value
}

/// `a="x, y", b=z` → [(a, x, y), (b, z)], honouring quotes and backslash escapes.
fn params(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while matches!(chars.peek(), Some(c) if c.is_whitespace() || *c == ',') {
            chars.next();
        }
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' {
                break;
            }
            name.push(c);
            chars.next();
        }
        if name.trim().is_empty() {
            return out;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'=') {
            chars.next();
            while matches!(chars.peek(), Some(c) if c.is_whitespace()) {
                chars.next();
            }
            if chars.peek() == Some(&'"') {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => value.extend(chars.next()),
                        '"' => break,
                        c => value.push(c),
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ',' {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
            }
        }
        out.push((name.trim().to_string(), value.trim().to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge(realm: &str, nonce: &str, algorithm: Algorithm) -> Challenge {
        Challenge {
            realm: realm.into(),
            nonce: nonce.into(),
            opaque: None,
            algorithm,
            qop_auth: true,
            proxy: false,
        }
    }

    fn response_of(value: &str) -> String {
        params(&value[6..])
            .into_iter()
            .find(|(k, _)| k == "response")
            .unwrap()
            .1
    }

    #[test]
    fn rfc2617_md5_example() {
        let c = challenge(
            "testrealm@host.com",
            "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            Algorithm::Md5,
        );
        let value = answer(
            &c,
            "Mufasa",
            "Circle Of Life",
            "GET",
            "/dir/index.html",
            "0a4f113b",
            1,
        );
        assert_eq!(response_of(&value), "6629fae49393a05397450978507c4ef1");
        assert!(value.contains("nc=00000001"), "{value}");
    }

    #[test]
    fn rfc7616_sha256_and_md5_examples() {
        let nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
        let cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
        let sha = challenge("http-auth@example.org", nonce, Algorithm::Sha256);
        let value = answer(
            &sha,
            "Mufasa",
            "Circle of Life",
            "GET",
            "/dir/index.html",
            cnonce,
            1,
        );
        assert_eq!(
            response_of(&value),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
        let md5 = challenge("http-auth@example.org", nonce, Algorithm::Md5);
        let value = answer(
            &md5,
            "Mufasa",
            "Circle of Life",
            "GET",
            "/dir/index.html",
            cnonce,
            1,
        );
        assert_eq!(response_of(&value), "8ca523f5e9506fed4657c9700eebdbec");
    }

    #[test]
    fn nonce_count_is_hex_and_counts_per_nonce() {
        let mut creds = Credentials::new("ctibridge", "s3cret");
        creds.challenged(challenge("r", "n1", Algorithm::Md5));
        for _ in 0..15 {
            creds.authorization("SUBSCRIBE", "sip:1@r");
        }
        let (_, value) = creds.authorization("SUBSCRIBE", "sip:1@r").unwrap();
        assert!(value.contains("nc=00000010"), "{value}");
        creds.challenged(challenge("r", "n2", Algorithm::Md5));
        let (_, value) = creds.authorization("SUBSCRIBE", "sip:1@r").unwrap();
        assert!(value.contains("nc=00000001"), "{value}");
    }

    #[test]
    fn challenges_as_pbxs_send_them() {
        let first = Challenge::choose(
            [
                "Digest realm=\"pbx.example.net\",nonce=\"1733531201/5e2f\",opaque=\"3c1d\",algorithm=SHA-256,qop=\"auth\"",
                "Digest realm=\"pbx.example.net\",nonce=\"1733531201/5e2f\",opaque=\"3c1d\",algorithm=MD5,qop=\"auth\"",
            ]
            .into_iter(),
            false,
            401,
        )
        .unwrap();
        assert_eq!(first.algorithm, Algorithm::Sha256);
        assert_eq!(first.opaque.as_deref(), Some("3c1d"));
        let kamailio = Challenge::parse(
            "Digest realm=\"voip.example.com\", nonce=\"Z1Rk2GdU\", qop=\"auth\"",
            true,
        )
        .unwrap();
        assert_eq!(kamailio.algorithm, Algorithm::Md5);
        assert!(kamailio.qop_auth && kamailio.proxy);
        // chan_sip: no qop at all
        let old = Challenge::parse(
            "Digest algorithm=MD5, realm=\"asterisk\", nonce=\"6d1a9c2e\"",
            false,
        )
        .unwrap();
        assert!(!old.qop_auth);
        let value = answer(&old, "u", "p", "SUBSCRIBE", "sip:1@a", "c", 1);
        assert!(!value.contains("qop"), "{value}");
    }

    #[test]
    fn unanswerable_challenges_say_why() {
        assert_eq!(
            Challenge::parse(
                "Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512-256",
                false
            ),
            Err(DigestError::Algorithm("SHA-512-256".into()))
        );
        assert_eq!(
            Challenge::parse("Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"", false),
            Err(DigestError::Qop("auth-int".into()))
        );
        assert_eq!(
            Challenge::parse("Digest realm=\"r\"", false),
            Err(DigestError::Missing("nonce"))
        );
        assert_eq!(
            Challenge::parse("Basic realm=\"r\"", false),
            Err(DigestError::NoChallenge(401))
        );
    }
}

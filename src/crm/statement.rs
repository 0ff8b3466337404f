//! Statements an administrator writes in the configuration (`[crm] lookup_sql`,
//! `log_sql`): their named parameters (`:e164`, `:call_id`, …) become the backend's
//! placeholders (`$1…` on PostgreSQL, `?` elsewhere), so every value is bound,
//! never pasted into the text. Named parameters inside quoted strings or names, and
//! PostgreSQL's `::` casts, are left alone.

use super::db::Backend;

/// What is wrong with a statement's named parameters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    #[error("unknown parameter `:{0}`")]
    Unknown(String),
    #[error("a quoted string or name is not closed")]
    Unclosed,
}

/// Why a `[crm]` statement (`lookup_sql`, `log_sql`) cannot be used. Kept (and
/// cloned into each failed look-up's error) for as long as the daemon runs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    #[error("{key} is empty")]
    Empty { key: &'static str },
    #[error("{error}; {hint}")]
    Parameters {
        error: ParamError,
        /// The parameters the statement may use.
        hint: &'static str,
    },
    /// The database refused the statement (the check names what it tried).
    #[error("{check}: {error}")]
    Refused { check: &'static str, error: String },
    /// The database could not be asked.
    #[error("{0}")]
    Database(String),
}

/// Replace named parameters with the backend's placeholders. Returns the statement
/// and the parameters in placeholder order (a name used twice is bound twice).
/// Names not in `known` are an error.
pub fn placeholders(
    sql: &str,
    backend: Backend,
    known: &[&'static str],
) -> Result<(String, Vec<&'static str>), ParamError> {
    let mut out = String::with_capacity(sql.len());
    let mut params = Vec::new();
    let mut chars = sql.char_indices().peekable();
    let mut quote: Option<char> = None;
    while let Some((i, c)) = chars.next() {
        if let Some(q) = quote {
            out.push(c);
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' | '`' => {
                quote = Some(c);
                out.push(c);
            }
            ':' if chars.peek().map(|(_, n)| *n) == Some(':') => {
                // A PostgreSQL cast, `value::text`.
                out.push_str("::");
                chars.next();
            }
            ':' if chars.peek().is_some_and(|(_, n)| n.is_ascii_alphabetic()) => {
                let start = i + 1;
                let mut end = start;
                while let Some((j, n)) = chars.peek().copied() {
                    if n.is_ascii_alphanumeric() || n == '_' {
                        end = j + n.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                let name = &sql[start..end];
                let Some(param) = known.iter().find(|k| **k == name) else {
                    return Err(ParamError::Unknown(name.to_string()));
                };
                params.push(*param);
                match backend {
                    Backend::Postgres => out.push_str(&format!("${}", params.len())),
                    Backend::Sqlite | Backend::Mysql => out.push('?'),
                }
            }
            _ => out.push(c),
        }
    }
    if quote.is_some() {
        return Err(ParamError::Unclosed);
    }
    Ok((out, params))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any text: placeholders or an error, never a panic; one placeholder per
        /// parameter found.
        #[test]
        fn any_text_is_handled(text in "\\PC{0,80}") {
            for backend in [Backend::Sqlite, Backend::Postgres, Backend::Mysql] {
                if let Ok((sql, params)) = placeholders(&text, backend, &KNOWN) {
                    if backend != Backend::Postgres {
                        let extra = sql.matches('?').count() - text.matches('?').count();
                        prop_assert_eq!(extra, params.len());
                    }
                }
            }
        }
    }

    const KNOWN: [&str; 3] = ["e164", "national", "raw"];

    #[test]
    fn named_parameters_become_placeholders() {
        let sql = "SELECT id, full_name AS name FROM people WHERE mobile = :national OR phone = :e164 OR note = ':raw' OR x::text = :raw";
        let (pg, params) = placeholders(sql, Backend::Postgres, &KNOWN).unwrap();
        assert_eq!(
            pg,
            "SELECT id, full_name AS name FROM people WHERE mobile = $1 OR phone = $2 OR note = ':raw' OR x::text = $3"
        );
        assert_eq!(params, ["national", "e164", "raw"]);
        let (my, _) = placeholders(sql, Backend::Mysql, &KNOWN).unwrap();
        assert!(my.contains("mobile = ? OR phone = ?"), "{my}");
        assert_eq!(
            placeholders("SELECT :nope", Backend::Sqlite, &KNOWN),
            Err(ParamError::Unknown("nope".into()))
        );
        assert_eq!(
            ParamError::Unknown("nope".into()).to_string(),
            "unknown parameter `:nope`"
        );
        assert_eq!(
            placeholders("SELECT 'open", Backend::Sqlite, &KNOWN),
            Err(ParamError::Unclosed)
        );
    }
}

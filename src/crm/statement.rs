//! Statements an administrator writes in the configuration (`[crm] lookup_sql`,
//! `log_sql`): their named parameters (`:e164`, `:call_id`, …) become the backend's
//! placeholders (`$1…` on PostgreSQL, `?` elsewhere), so every value is bound,
//! never pasted into the text. Named parameters inside quoted strings or names, and
//! PostgreSQL's `::` casts, are left alone.

use super::db::Backend;

/// Replace named parameters with the backend's placeholders. Returns the statement
/// and the parameters in placeholder order (a name used twice is bound twice).
/// Names not in `known` are an error.
pub fn placeholders(
    sql: &str,
    backend: Backend,
    known: &[&'static str],
) -> Result<(String, Vec<&'static str>), String> {
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
                    return Err(format!("unknown parameter `:{name}`"));
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
        return Err("a quoted string or name is not closed".into());
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
        assert!(placeholders("SELECT :nope", Backend::Sqlite, &KNOWN)
            .unwrap_err()
            .contains("`:nope`"));
        assert!(placeholders("SELECT 'open", Backend::Sqlite, &KNOWN).is_err());
    }
}

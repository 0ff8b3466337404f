//! Report output: JSON (DESIGN.md's shape), CSV, or an aligned table for a terminal.

use serde_json::{json, Value};

use super::agents::AgentFigures;
use super::period::show;
use super::queues::QueueFigures;
use chrono::NaiveDateTime;

pub fn queues_json(from: NaiveDateTime, to: NaiveDateTime, queues: &[QueueFigures]) -> Value {
    json!({ "from": show(from), "to": show(to), "queues": queues })
}

pub fn agents_json(from: NaiveDateTime, to: NaiveDateTime, agents: &[AgentFigures]) -> Value {
    json!({ "from": show(from), "to": show(to), "agents": agents })
}

/// Rows of cells from a JSON report's list: scalar fields only, nested maps as
/// `key=value;…` (the not-ready reasons).
fn rows(list: &Value) -> (Vec<String>, Vec<Vec<String>>) {
    let items = list.as_array().cloned().unwrap_or_default();
    let Some(Value::Object(first)) = items.first() else {
        return (Vec::new(), Vec::new());
    };
    let header: Vec<String> = first.keys().cloned().collect();
    let cell = |v: &Value| match v {
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => format!("{f:.3}"),
            _ => n.to_string(),
        },
        Value::String(s) => s.clone(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}={:.0}", v.as_f64().unwrap_or(0.0)))
            .collect::<Vec<_>>()
            .join(";"),
        other => other.to_string(),
    };
    let body = items
        .iter()
        .map(|item| header.iter().map(|k| cell(&item[k])).collect())
        .collect();
    (header, body)
}

pub fn csv(list: &Value) -> String {
    let (header, body) = rows(list);
    let mut out = Vec::new();
    {
        let mut writer = csv::Writer::from_writer(&mut out);
        let _ = writer.write_record(&header);
        for row in body {
            let _ = writer.write_record(&row);
        }
        let _ = writer.flush();
    }
    String::from_utf8_lossy(&out).to_string()
}

pub fn table(list: &Value) -> String {
    let (header, body) = rows(list);
    if header.is_empty() {
        return "no data in this period\n".into();
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            body.iter()
                .map(|r| r[i].len())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:>w$}"))
            .collect::<Vec<_>>()
            .join("  ")
    };
    let mut out = line(&header);
    out.push('\n');
    for row in &body {
        out.push_str(&line(row));
        out.push('\n');
    }
    out
}

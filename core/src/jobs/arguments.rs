//! The argument index: every scalar in a job's JSON arguments, by its path (`event_id`,
//! `template.path`), written into `job_arguments` with the job, so that the dashboard finds jobs
//! by an argument through an index rather than by parsing every job's JSON.

use serde_json::Value;

/// Longer values are not indexed (a mail body, a document): nobody types them into a search.
pub const MAX_VALUE_CHARS: usize = billhook_model::MAX_SEARCHABLE_ARGUMENT_CHARS;
/// At most this many values of one job are indexed (the first, in document order).
pub const MAX_PER_JOB: usize = 32;

/// The `(path, value)` pairs of `arguments` as the index holds them: object keys joined by `.`,
/// strings as they are, numbers as JSON writes them, `true` / `false`; nulls and arrays (and
/// what they hold) are left out.
pub fn indexed(arguments: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    walk(arguments, &mut String::new(), &mut out);
    out
}

fn walk(value: &Value, path: &mut String, out: &mut Vec<(String, String)>) {
    if out.len() >= MAX_PER_JOB {
        return;
    }
    let text = match value {
        Value::Object(fields) => {
            for (key, field) in fields {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                walk(field, path, out);
                path.truncate(len);
            }
            return;
        }
        Value::Null | Value::Array(_) => return,
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
    };
    if !path.is_empty() && text.chars().count() <= MAX_VALUE_CHARS {
        out.push((path.clone(), text));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{MAX_PER_JOB, indexed};

    #[test]
    fn scalars_are_indexed_by_their_path() {
        let job = json!({
            "event_id": "evt_1", "template": { "path": "welcome", "n": 3, "ok": true },
            "tags": ["a", "b"], "none": null, "body": "x".repeat(201),
        });
        let mut pairs = indexed(&job);
        pairs.sort();
        let expected =
            [("event_id", "evt_1"), ("template.n", "3"), ("template.ok", "true"), ("template.path", "welcome")];
        assert_eq!(pairs, expected.map(|(p, v)| (p.to_owned(), v.to_owned())));
    }

    #[test]
    fn a_job_indexes_a_bounded_number_of_values() {
        let wide: serde_json::Map<_, _> = (0..100).map(|i| (format!("k{i}"), json!(i))).collect();
        assert_eq!(indexed(&serde_json::Value::Object(wide)).len(), MAX_PER_JOB);
        assert!(indexed(&json!("just a string")).is_empty(), "a value needs a path");
    }
}

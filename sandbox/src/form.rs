//! Stripe's request encoding: `application/x-www-form-urlencoded` with brackets for structure -
//! `metadata[plan]=basic`, `items[0][price]=price_1`, `expand[]=latest_invoice` - decoded into
//! a JSON value whose leaves are strings (Stripe reads each parameter as its own type).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::ApiError;

/// A parameter tree while it is being built: an index segment (`[0]`, `[]`) makes a list.
enum Node {
    Leaf(String),
    Map(BTreeMap<String, Node>),
    List(BTreeMap<usize, Node>),
}

/// `items[0][price]` -> `["items", "0", "price"]`; `expand[]` -> `["expand", ""]`.
fn segments(key: &str) -> Option<Vec<&str>> {
    let (head, mut rest) = match key.find('[') {
        Some(at) => (&key[..at], &key[at..]),
        None => (key, ""),
    };
    if head.is_empty() {
        return None;
    }
    let mut out = vec![head];
    while !rest.is_empty() {
        let inner = rest.strip_prefix('[')?;
        let close = inner.find(']')?;
        out.push(&inner[..close]);
        rest = &inner[close + 1..];
    }
    Some(out)
}

fn insert(node: &mut Node, path: &[&str], value: String, key: &str) -> Result<(), ApiError> {
    let conflict = || ApiError::invalid_param(key, format!("Invalid structure for parameter {key}."));
    let Some((first, rest)) = path.split_first() else {
        return match node {
            Node::Map(map) if map.is_empty() => {
                *node = Node::Leaf(value);
                Ok(())
            }
            _ => Err(conflict()),
        };
    };
    let is_index = first.is_empty() || first.bytes().all(|b| b.is_ascii_digit());
    if let Node::Map(map) = node
        && map.is_empty()
        && is_index
    {
        *node = Node::List(BTreeMap::new());
    }
    match node {
        Node::List(list) if is_index => {
            let index = if first.is_empty() {
                list.keys().next_back().map_or(0, |last| last + 1)
            } else {
                first.parse().map_err(|_| conflict())?
            };
            if index > 10_000 {
                return Err(ApiError::invalid_param(key, "Array indexes must be below 10000.".into()));
            }
            insert(list.entry(index).or_insert_with(|| Node::Map(BTreeMap::new())), rest, value, key)
        }
        Node::Map(map) if !is_index => {
            insert(map.entry((*first).to_owned()).or_insert_with(|| Node::Map(BTreeMap::new())), rest, value, key)
        }
        _ => Err(conflict()),
    }
}

fn into_value(node: Node) -> Value {
    match node {
        Node::Leaf(s) => Value::String(s),
        Node::Map(map) => Value::Object(map.into_iter().map(|(k, v)| (k, into_value(v))).collect()),
        Node::List(list) => Value::Array(list.into_values().map(into_value).collect()),
    }
}

/// Decodes `encoded` (a query string or a form body) into one object of parameters.
pub fn decode(encoded: &[u8]) -> Result<Value, ApiError> {
    let mut root = Node::Map(BTreeMap::new());
    for (key, value) in form_urlencoded::parse(encoded) {
        let path =
            segments(&key).ok_or_else(|| ApiError::invalid_param(&key, format!("Invalid parameter name {key}.")))?;
        insert(&mut root, &path, value.into_owned(), &key)?;
    }
    Ok(into_value(root))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::decode;

    #[test]
    fn brackets_make_objects_and_lists() {
        let params = decode(
            b"email=a%40b.c&metadata[plan]=basic&metadata[seats]=2&items[0][price]=p1&items[1][price]=p2\
              &items[1][quantity]=3&expand[]=latest_invoice&expand[]=customer",
        )
        .unwrap();
        assert_eq!(
            params,
            json!({
                "email": "a@b.c",
                "metadata": {"plan": "basic", "seats": "2"},
                "items": [{"price": "p1"}, {"price": "p2", "quantity": "3"}],
                "expand": ["latest_invoice", "customer"],
            })
        );
    }

    #[test]
    fn an_empty_value_is_kept_for_unsetting() {
        assert_eq!(decode(b"metadata[plan]=").unwrap(), json!({"metadata": {"plan": ""}}));
        assert_eq!(decode(b"").unwrap(), json!({}));
    }

    #[test]
    fn a_parameter_cannot_be_both_a_value_and_an_object() {
        let error = decode(b"metadata=x&metadata[a]=b").unwrap_err();
        assert_eq!(error.param.as_deref(), Some("metadata[a]"));
        assert!(decode(b"a[b=1").is_err());
        assert!(decode(b"[a]=1").is_err());
    }
}

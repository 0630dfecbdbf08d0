//! A request's parameters, taken one by one by the endpoint: whatever is left is a parameter the
//! endpoint does not know, refused as Stripe refuses it (`parameter_unknown`, naming it).

use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
};
use http::Method;
use serde_json::{Map, Value};

use crate::{error::ApiError, form, store::Page};

/// Largest request body the sandbox reads.
const BODY_LIMIT: usize = 1024 * 1024;

/// Parameters of one request: the query string, and for a POST the form body over it.
#[derive(Debug, Default)]
pub struct Params {
    map: Map<String, Value>,
    /// `items[0]` for nested parameters: the `param` named in errors.
    prefix: String,
}

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let mut map = match form::decode(request.uri().query().unwrap_or_default().as_bytes())? {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        if request.method() == Method::POST {
            let body = Bytes::from_request(request, state)
                .await
                .map_err(|e| ApiError::invalid(format!("The request body cannot be read: {e}")))?;
            if body.len() > BODY_LIMIT {
                return Err(ApiError::invalid("The request body is too large.".into()));
            }
            if let Value::Object(posted) = form::decode(&body)? {
                map.extend(posted);
            }
        }
        Ok(Self { map, prefix: String::new() })
    }
}

impl Params {
    fn name(&self, key: &str) -> String {
        if self.prefix.is_empty() { key.to_owned() } else { format!("{}[{key}]", self.prefix) }
    }

    /// A string parameter.
    pub fn string(&mut self, key: &str) -> Result<Option<String>, ApiError> {
        match self.map.remove(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ApiError::invalid_param(&self.name(key), format!("Invalid string: {}", self.name(key)))),
        }
    }

    pub fn required(&mut self, key: &str) -> Result<String, ApiError> {
        self.string(key)?.filter(|s| !s.is_empty()).ok_or_else(|| ApiError::missing_param(&self.name(key)))
    }

    /// An integer parameter (`unit_amount=2000`).
    pub fn integer(&mut self, key: &str) -> Result<Option<i64>, ApiError> {
        let name = self.name(key);
        self.string(key)?
            .map(|s| s.parse().map_err(|_| ApiError::invalid_param(&name, format!("Invalid integer: {s}"))))
            .transpose()
    }

    /// A boolean parameter (`true` / `false`).
    pub fn boolean(&mut self, key: &str) -> Result<Option<bool>, ApiError> {
        let name = self.name(key);
        self.string(key)?
            .map(|s| match s.as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(ApiError::invalid_param(&name, format!("Invalid boolean: {s}"))),
            })
            .transpose()
    }

    /// One of `allowed`.
    pub fn one_of(&mut self, key: &str, allowed: &[&str]) -> Result<Option<String>, ApiError> {
        let name = self.name(key);
        match self.string(key)? {
            Some(s) if !allowed.contains(&s.as_str()) => {
                Err(ApiError::invalid_param(&name, format!("Invalid {name}: must be one of {}", allowed.join(", "))))
            }
            other => Ok(other),
        }
    }

    /// A value of one of Billhook's shared enums (a status), by its stored name.
    pub fn parsed<T>(&mut self, key: &str) -> Result<Option<T>, ApiError>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        let name = self.name(key);
        self.string(key)?
            .map(|s| s.parse::<T>().map_err(|e| ApiError::invalid_param(&name, format!("Invalid {name}: {e}"))))
            .transpose()
    }

    /// A nested object of parameters (`recurring[interval]=month`).
    pub fn object(&mut self, key: &str) -> Result<Option<Params>, ApiError> {
        let name = self.name(key);
        match self.map.remove(key) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Params { map, prefix: name })),
            Some(Value::String(s)) if s.is_empty() => Ok(Some(Params { map: Map::new(), prefix: name })),
            Some(_) => Err(ApiError::invalid_param(&name, format!("Invalid object: {name}"))),
        }
    }

    /// A list of objects (`items[0][price]=...&items[1][price]=...`).
    pub fn objects(&mut self, key: &str) -> Result<Option<Vec<Params>>, ApiError> {
        let name = self.name(key);
        match self.map.remove(key) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .into_iter()
                .enumerate()
                .map(|(index, item)| match item {
                    Value::Object(map) => Ok(Params { map, prefix: format!("{name}[{index}]") }),
                    _ => Err(ApiError::invalid_param(
                        &format!("{name}[{index}]"),
                        format!("Invalid object: {name}[{index}]"),
                    )),
                })
                .collect::<Result<_, _>>()
                .map(Some),
            Some(_) => Err(ApiError::invalid_param(&name, format!("Invalid array: {name}"))),
        }
    }

    /// A list of strings (`expand[]=a&expand[]=b`, `lookup_keys[0]=x`).
    pub fn strings(&mut self, key: &str) -> Result<Option<Vec<String>>, ApiError> {
        let name = self.name(key);
        match self.map.remove(key) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .into_iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s),
                    _ => Err(ApiError::invalid_param(&name, format!("Invalid array: {name}"))),
                })
                .collect::<Result<_, _>>()
                .map(Some),
            Some(_) => Err(ApiError::invalid_param(&name, format!("Invalid array: {name}"))),
        }
    }

    /// `metadata`: `metadata[key]=value` sets, `metadata[key]=` unsets, `metadata=` clears.
    pub fn metadata(&mut self) -> Result<Option<Map<String, Value>>, ApiError> {
        let name = self.name("metadata");
        match self.map.remove("metadata") {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(Some(Map::new())),
            Some(Value::Object(map)) => {
                for (key, value) in &map {
                    if !value.is_string() || key.len() > 40 {
                        return Err(ApiError::invalid_param(&format!("{name}[{key}]"), "Invalid metadata.".into()));
                    }
                }
                Ok(Some(map))
            }
            Some(_) => Err(ApiError::invalid_param(&name, "Invalid metadata.".into())),
        }
    }

    /// `expand[]`: the paths to expand in the answer.
    pub fn expand(&mut self) -> Result<Vec<String>, ApiError> {
        Ok(self.strings("expand")?.unwrap_or_default())
    }

    /// `limit` (1 to 100, 10 by default), `starting_after`, `ending_before`.
    pub fn page(&mut self) -> Result<Page, ApiError> {
        let limit = self.integer("limit")?.unwrap_or(10);
        if !(1..=100).contains(&limit) {
            return Err(ApiError::invalid_param("limit", "Invalid limit: must be between 1 and 100".into()));
        }
        Ok(Page {
            limit: usize::try_from(limit).unwrap_or(10),
            starting_after: self.string("starting_after")?,
            ending_before: self.string("ending_before")?,
        })
    }

    /// Refuses whatever the endpoint did not take.
    pub fn finish(self) -> Result<(), ApiError> {
        match self.map.keys().next() {
            Some(key) => Err(ApiError::unknown_param(&self.name(key))),
            None => Ok(()),
        }
    }
}

/// Applies a `metadata` update to an object's metadata (an empty value unsets; an empty update
/// clears).
pub fn apply_metadata(current: &mut Value, update: Map<String, Value>) {
    if update.is_empty() {
        *current = Value::Object(Map::new());
        return;
    }
    let Value::Object(map) = current else {
        *current = Value::Object(update.into_iter().filter(|(_, v)| v != "").collect());
        return;
    };
    for (key, value) in update {
        if value == "" {
            map.remove(&key);
        } else {
            map.insert(key, value);
        }
    }
}

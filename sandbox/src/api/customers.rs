//! `/v1/customers`: create, retrieve, update, list (by `email`).

use axum::{
    Json,
    extract::{Path, State},
};
use rand::Rng;
use serde_json::{Map, Value};

use super::{answer, events, list_page, retrieve_object};
use crate::{
    Sandbox,
    error::ApiError,
    params::{Params, apply_metadata},
    store::new_id,
};

/// The fields `create` and `update` both take.
async fn apply(sandbox: &Sandbox, customer: &mut Value, params: &mut Params) -> Result<Map<String, Value>, ApiError> {
    let mut previous = Map::new();
    let mut set = |customer: &mut Value, field: &str, value: Value| {
        previous.insert(field.to_owned(), customer[field].clone());
        customer[field] = value;
    };
    for field in ["email", "name", "description", "phone"] {
        if let Some(value) = params.string(field)? {
            set(customer, field, if value.is_empty() { Value::Null } else { value.into() });
        }
    }
    if let Some(update) = params.metadata()? {
        let mut metadata = customer["metadata"].clone();
        apply_metadata(&mut metadata, update);
        set(customer, "metadata", metadata);
    }
    if let Some(locales) = params.strings("preferred_locales")? {
        set(customer, "preferred_locales", locales.into());
    }
    if let Some(mut settings) = params.object("invoice_settings")? {
        if let Some(method) = settings.string("default_payment_method")? {
            let value = if method.is_empty() {
                Value::Null
            } else {
                sandbox.store.get("payment_method", &method, "invoice_settings[default_payment_method]").await?;
                method.into()
            };
            let mut invoice_settings = customer["invoice_settings"].clone();
            invoice_settings["default_payment_method"] = value;
            set(customer, "invoice_settings", invoice_settings);
        }
        settings.finish()?;
    }
    Ok(previous)
}

pub async fn create(State(sandbox): State<Sandbox>, mut params: Params) -> Result<Json<Value>, ApiError> {
    let mut customer: Value = serde_json::from_str(include_str!("../templates/customer.json")).unwrap_or_default();
    customer["id"] = new_id("cus").into();
    customer["created"] = sandbox.now().into();
    customer["invoice_prefix"] = format!("{:08X}", rand::thread_rng().r#gen::<u32>()).into();
    if let Some(clock) = params.string("test_clock")? {
        customer["test_clock"] =
            sandbox.store.get("test_helpers.test_clock", &clock, "test_clock").await?["id"].clone();
    }
    apply(&sandbox, &mut customer, &mut params).await?;
    let paths = params.expand()?;
    params.finish()?;
    sandbox.store.insert(&customer).await?;
    events::record(&sandbox, "customer.created", &customer, None).await?;
    answer(&sandbox, customer, &paths).await
}

pub async fn retrieve(
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    retrieve_object(&sandbox, "customer", &id, params).await
}

pub async fn update(
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
    mut params: Params,
) -> Result<Json<Value>, ApiError> {
    let mut customer = sandbox.store.get("customer", &id, "id").await?;
    let previous = apply(&sandbox, &mut customer, &mut params).await?;
    let paths = params.expand()?;
    params.finish()?;
    events::save_changes(&sandbox, &mut customer, previous, "customer.updated", None).await?;
    answer(&sandbox, customer, &paths).await
}

pub async fn list(State(sandbox): State<Sandbox>, mut params: Params) -> Result<Json<Value>, ApiError> {
    let page = params.page()?;
    let email = params.string("email")?;
    let paths = params.expand()?;
    params.finish()?;
    list_page(&sandbox, "customer", "/v1/customers", &page, &paths, |c| {
        email.as_deref().is_none_or(|e| c["email"] == e)
    })
    .await
}

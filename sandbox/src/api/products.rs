//! `/v1/products`: create (with an optional id of one's own), retrieve, update, list (`active`,
//! `ids[]`).

use axum::{
    Json,
    extract::{Path, State},
};
use serde_json::{Map, Value};

use super::{answer, events, list_page, retrieve_object};
use crate::{
    Sandbox,
    error::ApiError,
    params::{Params, apply_metadata},
    store::new_id,
};

async fn apply(sandbox: &Sandbox, product: &mut Value, params: &mut Params) -> Result<Map<String, Value>, ApiError> {
    let mut previous = Map::new();
    let mut set = |product: &mut Value, field: &str, value: Value| {
        previous.insert(field.to_owned(), product[field].clone());
        product[field] = value;
    };
    if let Some(name) = params.string("name")? {
        if name.is_empty() {
            return Err(ApiError::invalid_param("name", "A product needs a name.".into()));
        }
        set(product, "name", name.into());
    }
    for field in ["description", "url", "unit_label", "statement_descriptor", "tax_code"] {
        if let Some(value) = params.string(field)? {
            set(product, field, if value.is_empty() { Value::Null } else { value.into() });
        }
    }
    if let Some(active) = params.boolean("active")? {
        set(product, "active", active.into());
    }
    if let Some(images) = params.strings("images")? {
        set(product, "images", images.into());
    }
    if let Some(update) = params.metadata()? {
        let mut metadata = product["metadata"].clone();
        apply_metadata(&mut metadata, update);
        set(product, "metadata", metadata);
    }
    if let Some(price) = params.string("default_price")? {
        let price = sandbox.store.get("price", &price, "default_price").await?;
        if price["product"] != product["id"] {
            return Err(ApiError::invalid_param(
                "default_price",
                "The default price must belong to this product.".into(),
            ));
        }
        set(product, "default_price", price["id"].clone());
    }
    Ok(previous)
}

pub async fn create(State(sandbox): State<Sandbox>, mut params: Params) -> Result<Json<Value>, ApiError> {
    let mut product: Value = serde_json::from_str(include_str!("../templates/product.json")).unwrap_or_default();
    let id = params.string("id")?.unwrap_or_else(|| new_id("prod"));
    if sandbox.store.find(&id).await?.is_some() {
        return Err(ApiError::invalid_param("id", format!("Product already exists: {id}")));
    }
    product["id"] = id.into();
    product["created"] = sandbox.now().into();
    product["updated"] = sandbox.now().into();
    if params.string("name")?.filter(|n| !n.is_empty()).map(|name| product["name"] = name.into()).is_none() {
        return Err(ApiError::missing_param("name"));
    }
    apply(&sandbox, &mut product, &mut params).await?;
    let paths = params.expand()?;
    params.finish()?;
    sandbox.store.insert(&product).await?;
    events::record(&sandbox, "product.created", &product, None).await?;
    answer(&sandbox, product, &paths).await
}

pub async fn retrieve(
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    retrieve_object(&sandbox, "product", &id, params).await
}

pub async fn update(
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
    mut params: Params,
) -> Result<Json<Value>, ApiError> {
    let mut product = sandbox.store.get("product", &id, "id").await?;
    let previous = apply(&sandbox, &mut product, &mut params).await?;
    let paths = params.expand()?;
    params.finish()?;
    events::save_changes(&sandbox, &mut product, previous, "product.updated", Some("updated")).await?;
    answer(&sandbox, product, &paths).await
}

pub async fn list(State(sandbox): State<Sandbox>, mut params: Params) -> Result<Json<Value>, ApiError> {
    let page = params.page()?;
    let active = params.boolean("active")?;
    let ids = params.strings("ids")?;
    let paths = params.expand()?;
    params.finish()?;
    list_page(&sandbox, "product", "/v1/products", &page, &paths, |p| {
        active.is_none_or(|a| p["active"] == a)
            && ids.as_ref().is_none_or(|ids| ids.iter().any(|id| p["id"] == id.as_str()))
    })
    .await
}

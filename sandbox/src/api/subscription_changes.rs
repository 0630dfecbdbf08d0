//! Changing a subscription's items - a new price on an item, a new quantity, an item added or
//! deleted - with prorations by the day (`proration_behavior`: `create_prorations`, kept as
//! pending invoice items for the next invoice; `always_invoice`, invoiced and charged now;
//! `none`), and `POST /v1/invoices/create_preview`, which shows a change's invoice before it is
//! made. A change of billing interval (monthly to yearly) restarts the cycle, as at Stripe: the
//! unused time is credited and the new period charged at once, whatever `proration_behavior`
//! says (`none` drops the credit).

use axum::{Json, extract::State};
use serde_json::{Value, json};

use super::invoices::{self, Line};
use crate::{
    Sandbox,
    error::ApiError,
    params::Params,
    store::{Page, new_id},
};

const DAY: i64 = 86_400;

/// One requested item change (`items[n][id|price|quantity|deleted]`).
pub struct ItemChange {
    id: Option<String>,
    price: Option<Value>,
    quantity: Option<i64>,
    deleted: bool,
    param: String,
}

/// A proration - the unused or remaining part of an item's period, by the day - or, when a
/// change restarts the billing cycle, the new period's full charge.
pub struct Proration {
    price: Value,
    quantity: i64,
    item_id: String,
    period: (i64, i64),
    amount: i64,
    /// False for a new period's full charge.
    is_proration: bool,
}

impl Proration {
    pub fn line(&self) -> Line<'_> {
        Line {
            price: &self.price,
            quantity: self.quantity,
            item_id: &self.item_id,
            period: self.period,
            proration: self.is_proration.then_some(self.amount),
        }
    }
}

/// What a change of items does to the bill.
pub struct Applied {
    pub prorations: Vec<Proration>,
    /// The billing interval changed: the cycle restarted, and the lines are invoiced now.
    pub cycle_reset: bool,
}

impl Applied {
    /// `proration_behavior=none`: no prorations (a restarted cycle's charge stays).
    pub fn without_prorations(mut self) -> Self {
        self.prorations.retain(|p| !p.is_proration);
        self
    }
}

/// Reads `items[...]` of an update (or of `subscription_details` in a preview).
pub async fn parse(sandbox: &Sandbox, raw: Vec<Params>) -> Result<Vec<ItemChange>, ApiError> {
    let mut changes = Vec::new();
    for (index, mut item) in raw.into_iter().enumerate() {
        let param = format!("items[{index}]");
        let price = match item.string("price")? {
            Some(id) => Some(sandbox.store.get("price", &id, &format!("{param}[price]")).await?),
            None => None,
        };
        let change = ItemChange {
            id: item.string("id")?,
            price,
            quantity: item.integer("quantity")?,
            deleted: item.boolean("deleted")?.unwrap_or(false),
            param,
        };
        item.finish()?;
        if change.quantity.is_some_and(|q| q < 1) {
            return Err(ApiError::invalid_param(
                &format!("{}[quantity]", change.param),
                "Quantity must be at least 1.".into(),
            ));
        }
        if change.id.is_none() && change.price.is_none() {
            return Err(ApiError::missing_param(&format!("{}[price]", change.param)));
        }
        changes.push(change);
    }
    Ok(changes)
}

/// `quantity` of `price` for the part of `period` from `at`, by whole days.
fn by_the_day(price: &Value, quantity: i64, period: (i64, i64), at: i64) -> i64 {
    let total_days = ((period.1 - period.0) / DAY).max(1);
    let remaining_days = ((period.1 - at.clamp(period.0, period.1)) / DAY).clamp(0, total_days);
    let full = price["unit_amount"].as_i64().unwrap_or_default().saturating_mul(quantity);
    // Rounded half away from zero, to the cent.
    (full.saturating_mul(remaining_days) * 2 + total_days) / (total_days * 2)
}

/// The unused (`sign` -1, a credit) or remaining (`sign` 1, a charge) part of `item` from `at`
/// to the end of `period`.
fn prorate(item: &Value, period: (i64, i64), at: i64, sign: i64) -> Proration {
    let quantity = item["quantity"].as_i64().unwrap_or(1);
    Proration {
        amount: sign * by_the_day(&item["price"], quantity, period, at),
        price: item["price"].clone(),
        quantity,
        item_id: item["id"].as_str().unwrap_or_default().to_owned(),
        period: (at, period.1),
        is_proration: true,
    }
}

/// Applies `changes` to `subscription`'s items at `at`; returns the prorations they cause.
pub fn apply(subscription: &mut Value, changes: Vec<ItemChange>, at: i64) -> Result<Applied, ApiError> {
    let subscription_id = subscription["id"].clone();
    let items = subscription["items"]["data"]
        .as_array_mut()
        .ok_or_else(|| ApiError::invalid("The subscription has no items.".into()))?;
    let period = (
        items[0]["current_period_start"].as_i64().unwrap_or(at),
        items[0]["current_period_end"].as_i64().unwrap_or(at),
    );
    let interval = items[0]["price"]["recurring"]["interval"].clone();
    let mut prorations = Vec::new();
    for change in changes {
        match &change.id {
            Some(id) => {
                let index = items
                    .iter()
                    .position(|i| i["id"] == id.as_str())
                    .ok_or_else(|| ApiError::no_such("subscription_item", id, &format!("{}[id]", change.param)))?;
                prorations.push(prorate(&items[index], period, at, -1));
                if change.deleted {
                    items.remove(index);
                    continue;
                }
                if let Some(price) = change.price {
                    items[index]["plan"] = super::subscriptions::plan_of(&price);
                    items[index]["price"] = price;
                }
                if let Some(quantity) = change.quantity {
                    items[index]["quantity"] = quantity.into();
                }
                prorations.push(prorate(&items[index], period, at, 1));
            }
            None => {
                let price = change.price.unwrap_or_default();
                let mut item: Value =
                    serde_json::from_str(include_str!("../templates/subscription_item.json")).unwrap_or_default();
                item["id"] = new_id("si").into();
                item["created"] = at.into();
                item["subscription"] = subscription_id.clone();
                item["plan"] = super::subscriptions::plan_of(&price);
                item["price"] = price;
                item["quantity"] = change.quantity.unwrap_or(1).into();
                item["current_period_start"] = period.0.into();
                item["current_period_end"] = period.1.into();
                prorations.push(prorate(&item, period, at, 1));
                items.push(item);
            }
        }
    }
    if items.is_empty() {
        return Err(ApiError::invalid_param(
            "items",
            "A subscription needs at least one item; cancel it instead.".into(),
        ));
    }
    let new_interval = items[0]["price"]["recurring"].clone();
    if items.iter().any(|i| i["price"]["recurring"]["interval"] != new_interval["interval"]) {
        return Err(ApiError::invalid_param("items", "All items need the same billing interval.".into()));
    }
    let cycle_reset = new_interval["interval"] != interval;
    if cycle_reset {
        // The unused time is credited; the new period starts now and is charged in full.
        prorations.retain(|p| p.amount < 0);
        let every = new_interval["interval"].as_str().unwrap_or("month").to_owned();
        let count = new_interval["interval_count"].as_i64().unwrap_or(1);
        let end = crate::periods::advance(at, &every, count);
        for item in items.iter_mut() {
            item["current_period_start"] = at.into();
            item["current_period_end"] = end.into();
            let quantity = item["quantity"].as_i64().unwrap_or(1);
            prorations.push(Proration {
                amount: item["price"]["unit_amount"].as_i64().unwrap_or_default().saturating_mul(quantity),
                price: item["price"].clone(),
                quantity,
                item_id: item["id"].as_str().unwrap_or_default().to_owned(),
                period: (at, end),
                is_proration: false,
            });
        }
        subscription["billing_cycle_anchor"] = at.into();
    }
    prorations.retain(|p| p.amount != 0 || !p.is_proration);
    Ok(Applied { prorations, cycle_reset })
}

/// Keeps `prorations` as pending invoice items for the subscription's next invoice.
pub async fn keep_pending(sandbox: &Sandbox, subscription: &Value, prorations: &[Proration]) -> Result<(), ApiError> {
    for p in prorations {
        let item = json!({
            "id": new_id("ii"), "object": "invoiceitem", "amount": p.amount, "currency": subscription["currency"],
            "customer": subscription["customer"], "date": sandbox.now(), "description": null, "discountable": false,
            "invoice": null, "livemode": false, "metadata": {}, "period": { "start": p.period.0, "end": p.period.1 },
            "pricing": { "price_details": { "price": p.price["id"], "product": p.price["product"] }, "type": "price_details",
                "unit_amount_decimal": p.price["unit_amount_decimal"] },
            "proration": true, "quantity": p.quantity, "subscription": subscription["id"], "subscription_item": p.item_id,
            "sandbox_price": p.price,
        });
        sandbox.store.insert(&item).await?;
    }
    Ok(())
}

/// Takes the subscription's pending prorations (marking them invoiced).
pub async fn take_pending(sandbox: &Sandbox, subscription: &str) -> Result<Vec<Proration>, ApiError> {
    let all = Page { limit: 10_000, ..Page::default() };
    let (items, _) = sandbox
        .store
        .list("invoiceitem", &all, |i| i["subscription"] == subscription && i["invoice"].is_null())
        .await?;
    let mut taken = Vec::new();
    for mut item in items {
        item["invoice"] = "pending_invoice".into();
        sandbox.store.update(&item).await?;
        taken.push(Proration {
            price: item["sandbox_price"].clone(),
            quantity: item["quantity"].as_i64().unwrap_or(1),
            item_id: item["subscription_item"].as_str().unwrap_or_default().to_owned(),
            period: (
                item["period"]["start"].as_i64().unwrap_or_default(),
                item["period"]["end"].as_i64().unwrap_or_default(),
            ),
            amount: item["amount"].as_i64().unwrap_or_default(),
            is_proration: true,
        });
    }
    taken.reverse(); // oldest first
    Ok(taken)
}

/// `POST /v1/invoices/create_preview`: the invoice a change of items would bring - its
/// prorations (for `always_invoice`) or the next invoice with them (`create_prorations`) -
/// without changing anything.
pub async fn preview(State(sandbox): State<Sandbox>, mut params: Params) -> Result<Json<Value>, ApiError> {
    let customer = sandbox.store.get("customer", &params.required("customer")?, "customer").await?;
    let subscription_id = params.required("subscription")?;
    let mut subscription = sandbox.store.get("subscription", &subscription_id, "subscription").await?;
    if subscription["customer"] != customer["id"] {
        return Err(ApiError::invalid_param("subscription", "The subscription belongs to another customer.".into()));
    }
    let mut details = params.object("subscription_details")?.unwrap_or_default();
    let behaviour = details
        .one_of("proration_behavior", &["create_prorations", "always_invoice", "none"])?
        .unwrap_or_else(|| "create_prorations".into());
    let at = details.integer("proration_date")?.unwrap_or(sandbox.now_for(&customer).await?);
    let changes = parse(&sandbox, details.objects("items")?.unwrap_or_default()).await?;
    details.finish()?;
    params.finish()?;
    let applied = if changes.is_empty() {
        Applied { prorations: Vec::new(), cycle_reset: false }
    } else {
        apply(&mut subscription, changes, at)?
    };
    let now = applied.cycle_reset || behaviour == "always_invoice";
    let prorations = if behaviour == "none" { applied.without_prorations().prorations } else { applied.prorations };
    let mut lines: Vec<Line<'_>> = prorations.iter().map(Proration::line).collect();
    let next: Vec<(Value, i64, String, (i64, i64))> = if now {
        Vec::new()
    } else {
        subscription["items"]["data"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|item| {
                let end = item["current_period_end"].as_i64().unwrap_or_default();
                let interval = item["price"]["recurring"]["interval"].as_str().unwrap_or("month").to_owned();
                let count = item["price"]["recurring"]["interval_count"].as_i64().unwrap_or(1);
                (
                    item["price"].clone(),
                    item["quantity"].as_i64().unwrap_or(1),
                    item["id"].as_str().unwrap_or_default().to_owned(),
                    (end, crate::periods::advance(end, &interval, count)),
                )
            })
            .collect()
    };
    lines.extend(next.iter().map(|(price, quantity, item, period)| Line {
        price,
        quantity: *quantity,
        item_id: item,
        period: *period,
        proration: None,
    }));
    let id = format!("upcoming_{}", new_id("in"));
    let (data, total) = invoices::lines_of(&id, &subscription["currency"], &subscription, &lines);
    let mut invoice: Value = serde_json::from_str(include_str!("../templates/invoice.json")).unwrap_or_default();
    invoice["id"] = id.clone().into();
    invoice["created"] = at.into();
    invoice["customer"] = customer["id"].clone();
    invoice["customer_email"] = customer["email"].clone();
    invoice["currency"] = subscription["currency"].clone();
    invoice["subscription"] = subscription["id"].clone();
    invoice["billing_reason"] = if now { "subscription_update" } else { "upcoming" }.into();
    invoice["lines"] =
        json!({ "object": "list", "data": data, "has_more": false, "url": format!("/v1/invoices/{id}/lines") });
    for field in ["subtotal", "subtotal_excluding_tax", "total", "total_excluding_tax"] {
        invoice[field] = total.into();
    }
    invoice["amount_due"] = total.max(0).into();
    invoice["amount_remaining"] = total.max(0).into();
    Ok(Json(invoice))
}

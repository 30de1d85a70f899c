//! Asking the user: the same code in a session and in a stateless (2026-07-28) request.

// ANCHOR: all
use mcp_core::protocol::ElicitResult;
use mcp_core::{Context, JsonObject, RequestError, tool};
use serde_json::json;

/// A form with one required text field.
fn form(field: &str) -> JsonObject {
    let schema = json!({
        "type": "object",
        "properties": { field: { "type": "string" } },
        "required": [field],
    });
    schema.as_object().cloned().unwrap_or_default()
}

/// The text the user typed into `field`, if they accepted the form.
fn typed(answer: &ElicitResult, field: &str) -> Option<String> {
    let value = answer.content.as_ref()?.get(field)?;
    value.as_str().map(str::to_owned)
}

/// Plans a trip: asks where to, then for how many days, reporting progress on the way.
#[tool]
pub async fn plan_trip(ctx: Context) -> Result<String, RequestError> {
    yield_!("looking at the map");
    let place = ctx
        .input("destination")
        .elicit("Where to?", form("place"))
        .await?;
    let Some(place) = typed(&place, "place") else {
        return Ok("No trip, then.".into());
    };
    yield_!(format!("checking the weather in {place}"));
    let days = ctx
        .input("days")
        .elicit(format!("How many days in {place}?"), form("days"))
        .await?;
    let days = typed(&days, "days").unwrap_or_else(|| "a few".into());
    Ok(format!("{days} days in {place}"))
}
// ANCHOR_END: all

//! A task on the wire, in each era's shape: 2025-11-25 (`ttl`, `pollInterval`, the result
//! through `tasks/result`) and the 2026-07-28 tasks extension (`ttlMs`, `pollIntervalMs`, the
//! result, error or input requests inlined in `tasks/get`).

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::store::{TaskOutcome, TaskRecord};
use crate::jsonrpc::JsonObject;

/// `resultType` of a result that created a task (2026-07-28).
pub(crate) const RESULT_TASK: &str = "task";

/// The `Task` fields both eras share, with the era's names for the durations.
pub(crate) fn task(record: &TaskRecord) -> JsonObject {
    let mut o = JsonObject::new();
    o.insert("taskId".into(), record.task_id.clone().into());
    o.insert("status".into(), record.status.as_str().into());
    if let Some(message) = &record.status_message {
        o.insert("statusMessage".into(), message.clone().into());
    }
    o.insert("createdAt".into(), iso8601(record.created_at).into());
    o.insert(
        "lastUpdatedAt".into(),
        iso8601(record.last_updated_at).into(),
    );
    let (ttl, poll) = if record.modern {
        ("ttlMs", "pollIntervalMs")
    } else {
        ("ttl", "pollInterval")
    };
    o.insert(ttl.into(), record.ttl_ms.map_or(Value::Null, Value::from));
    o.insert(poll.into(), record.poll_interval_ms.into());
    o
}

/// The answer to the request that created the task.
pub(crate) fn created(record: &TaskRecord) -> JsonObject {
    if record.modern {
        let mut o = task(record);
        o.insert("resultType".into(), RESULT_TASK.into());
        o
    } else {
        let mut o = JsonObject::new();
        o.insert("task".into(), Value::Object(task(record)));
        o
    }
}

/// `tasks/get`: the task; in 2026-07-28 with its outcome or input requests inlined.
pub(crate) fn detailed(record: &TaskRecord) -> JsonObject {
    let mut o = task(record);
    if !record.modern {
        return o;
    }
    match &record.outcome {
        Some(TaskOutcome::Answer(result)) => {
            o.insert("result".into(), Value::Object(result.clone()));
        }
        Some(TaskOutcome::Error(error)) => {
            o.insert(
                "error".into(),
                serde_json::to_value(error).unwrap_or(Value::Null),
            );
        }
        None => {}
    }
    if !record.input_requests.is_empty() {
        o.insert(
            "inputRequests".into(),
            serde_json::to_value(&record.input_requests).unwrap_or(Value::Null),
        );
    }
    o
}

/// `_meta` naming the task a message belongs to (2025-11-25).
pub(crate) fn related_task_meta(task_id: &str) -> JsonObject {
    let mut related = JsonObject::new();
    related.insert("taskId".into(), task_id.into());
    let mut meta = JsonObject::new();
    meta.insert(super::RELATED_TASK_KEY.into(), Value::Object(related));
    meta
}

/// An ISO 8601 / RFC 3339 UTC timestamp with milliseconds: `2026-12-02T03:04:05.678Z`.
pub(crate) fn iso8601(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let millis = since.subsec_millis();
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Year, month and day of a count of days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(iso8601(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        // 2024-02-29T12:34:56.789Z, a leap day.
        let t = UNIX_EPOCH + Duration::from_millis(1_709_210_096_789);
        assert_eq!(iso8601(t), "2024-02-29T12:34:56.789Z");
        let t = UNIX_EPOCH + Duration::from_secs(4_102_444_799);
        assert_eq!(iso8601(t), "2099-12-31T23:59:59.000Z");
    }
}

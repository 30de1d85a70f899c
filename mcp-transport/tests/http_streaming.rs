//! Streaming over HTTP, proven in lockstep: the tool yields item i, then waits until the test
//! has read progress i from the response stream. Any buffering between the tool and the
//! socket deadlocks the test, which then fails by its (generous) timeout.

mod http_support;

use http::{Method, StatusCode};
use http_support::*;
use mcp_core::jsonrpc::Notification;
use mcp_transport::http::{HttpConfig, NotifyError, ResponseMode};
use serde_json::json;
use tokio::time::timeout;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockstep_over_streamable_http() {
    timeout(LIMIT, async {
        let gate = Gate::new();
        let running = start(&fixture_server(&gate), HttpConfig::default()).await;
        let addr = running.local_addr();
        let session = initialize(addr).await;

        let x = send(
            addr,
            post(addr, Some(&session), &call_message(1, "lockstep")),
        )
        .await;
        assert_eq!(x.status, StatusCode::OK);
        assert_eq!(x.header("cache-control"), Some("no-cache"));
        assert_eq!(x.header("x-accel-buffering"), Some("no"));
        let mut events = x.sse();

        let priming = events.next().await.expect("priming event");
        assert_eq!(priming.id.as_deref(), Some("1:0"));
        assert_eq!(priming.data, "");
        assert_eq!(priming.retry, Some(1000));

        for i in 1..=ITEMS {
            let event = events.next().await.expect("progress event");
            assert_eq!(event.id, Some(format!("1:{i}")));
            let message = event.message();
            assert_eq!(progress_of(&message), (f64::from(i), format!("item {i}")));
            assert_eq!(message["params"]["progressToken"], "tok-1");
            // Only now may the tool go on.
            gate.release();
        }
        let event = events.next().await.expect("response event");
        assert_eq!(event.id, Some(format!("1:{}", ITEMS + 1)));
        let response = event.message();
        assert_eq!(response["id"], 1);
        assert_eq!(response["result"]["content"][0]["text"], "done");
        assert!(
            events.next().await.is_none(),
            "the stream ends after the response"
        );
        assert_eq!(events.split_frames(), 0, "every frame holds whole events");
    })
    .await
    .expect("deadlock: an event was held back somewhere between the tool and the client");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockstep_over_legacy_sse() {
    timeout(LIMIT, async {
        let gate = Gate::new();
        let running = start(&fixture_server(&gate), HttpConfig::default()).await;
        let addr = running.local_addr();
        let (mut events, endpoint) = open_legacy(addr).await;

        let mut init = initialize_message(0);
        init["params"]["protocolVersion"] = "2024-11-05".into();
        assert_eq!(
            post_legacy(addr, &endpoint, &init).await,
            StatusCode::ACCEPTED
        );
        let event = events.next().await.expect("initialize response");
        assert_eq!(event.event.as_deref(), Some("message"));
        let reply = event.message();
        assert_eq!(reply["id"], 0);
        assert_eq!(reply["result"]["protocolVersion"], "2024-11-05");
        let status = post_legacy(addr, &endpoint, &initialized_message()).await;
        assert_eq!(status, StatusCode::ACCEPTED);

        let status = post_legacy(addr, &endpoint, &call_message(1, "lockstep")).await;
        assert_eq!(status, StatusCode::ACCEPTED);
        for i in 1..=ITEMS {
            let message = events.next_message().await.expect("progress event");
            assert_eq!(progress_of(&message), (f64::from(i), format!("item {i}")));
            gate.release();
        }
        let response = events.next_message().await.expect("response");
        assert_eq!(response["id"], 1);
        assert_eq!(response["result"]["content"][0]["text"], "done");
        assert_eq!(events.split_frames(), 0, "every frame holds whole events");

        // The session lives as long as its stream.
        assert_eq!(running.service().stats().sessions, 1);
        let mut stats = running.service().watch_stats();
        drop(events);
        stats.wait_for(|s| s.sessions == 0).await.unwrap();
        assert_eq!(
            post_legacy(addr, &endpoint, &initialized_message()).await,
            404
        );
    })
    .await
    .expect("deadlock: an event was held back somewhere between the tool and the client");
}

#[tokio::test]
async fn json_response_mode_answers_with_one_document() {
    timeout(LIMIT, async {
        let gate = Gate::new();
        let config = HttpConfig::default().response_mode(ResponseMode::Json);
        let running = start(&fixture_server(&gate), config).await;
        let addr = running.local_addr();

        let x = send(addr, post(addr, None, &initialize_message(0))).await;
        assert_eq!(x.status, StatusCode::OK);
        assert_eq!(x.header("content-type"), Some("application/json"));
        let session = x.session().expect("session id");
        assert_eq!(x.message().await["id"], 0);

        let x = send(addr, post(addr, Some(&session), &call_message(3, "quick"))).await;
        assert_eq!(x.status, StatusCode::OK);
        assert_eq!(x.header("content-type"), Some("application/json"));
        let reply = x.message().await;
        assert_eq!(reply["id"], 3);
        assert_eq!(reply["result"]["content"][0]["text"], "quick done");
    })
    .await
    .expect("timed out");
}

#[tokio::test]
async fn get_stream_is_exclusive_and_delete_ends_the_session() {
    timeout(LIMIT, async {
        let gate = Gate::new();
        let running = start(&fixture_server(&gate), HttpConfig::default()).await;
        let addr = running.local_addr();
        let session = initialize(addr).await;

        let x = send(addr, get(addr, &session, None)).await;
        assert_eq!(x.status, StatusCode::OK);
        let mut stream = x.sse();
        let priming = stream.next().await.expect("priming event");
        assert_eq!(priming.id.as_deref(), Some("0:0"));
        assert_eq!(priming.data, "");

        let second = send(addr, get(addr, &session, None)).await;
        assert_eq!(second.status, StatusCode::CONFLICT);
        second.message().await;

        // A request is answered on its own POST, never on the GET stream.
        let x = send(
            addr,
            post(
                addr,
                Some(&session),
                &json!({"jsonrpc": "2.0", "id": 9, "method": "ping"}),
            ),
        )
        .await;
        assert_eq!(x.answer().await["id"], 9);

        let delete = http_support::builder(addr, Method::DELETE, "/mcp")
            .header("mcp-session-id", &session)
            .body(full(bytes::Bytes::new()))
            .unwrap();
        assert_eq!(send(addr, delete).await.status, StatusCode::OK);
        assert!(
            stream.next().await.is_none(),
            "DELETE closes the session's streams"
        );

        let x = send(
            addr,
            post(
                addr,
                Some(&session),
                &json!({"jsonrpc": "2.0", "id": 10, "method": "ping"}),
            ),
        )
        .await;
        assert_eq!(x.status, StatusCode::NOT_FOUND);
        x.message().await;
    })
    .await
    .expect("timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_stream_carries_untagged_messages_and_resumes() {
    timeout(LIMIT, async {
        let gate = Gate::new();
        let running = start(&fixture_server(&gate), HttpConfig::default()).await;
        let addr = running.local_addr();
        let service = running.service().clone();
        let session = initialize(addr).await;
        let changed = || Notification::new("notifications/tools/list_changed", None);

        let x = send(addr, get(addr, &session, None)).await;
        let mut stream = x.sse();
        assert_eq!(stream.next().await.unwrap().id.as_deref(), Some("0:0"));
        service.notify(&session, changed()).await.unwrap();
        let event = stream.next().await.expect("the notification");
        assert_eq!(event.id.as_deref(), Some("0:1"));
        assert_eq!(
            event.message()["method"],
            "notifications/tools/list_changed"
        );

        // Sent while nobody listens: stored, and replayed on resumption.
        let mut stats = service.watch_stats();
        drop(stream);
        stats.wait_for(|s| s.connections == 0).await.unwrap();
        assert_eq!(service.notify_all(changed()).await, 1);
        let x = send(addr, get(addr, &session, Some("0:1"))).await;
        let mut resumed = x.sse();
        let event = resumed.next().await.expect("the missed notification");
        assert_eq!(event.id.as_deref(), Some("0:2"));
        event.message();
        // The resumed stream goes on live.
        service.notify(&session, changed()).await.unwrap();
        assert_eq!(resumed.next().await.unwrap().id.as_deref(), Some("0:3"));

        assert_eq!(
            service.notify("nope", changed()).await,
            Err(NotifyError::UnknownSession("nope".into()))
        );
    })
    .await
    .expect("timed out");
}

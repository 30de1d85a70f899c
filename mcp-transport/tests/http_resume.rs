//! Broken connections: resumption with `Last-Event-ID`, and a client that goes away.

mod http_support;

use http::StatusCode;
use http_support::*;
use mcp_transport::http::{HttpConfig, ResponseMode};
use serde_json::json;
use tokio::time::timeout;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumes_a_broken_stream_with_every_missed_event_exactly_once() {
    timeout(LIMIT, async {
        let gate = Gate::new();
        let store = Recording::new();
        let mut stored = store.stored.subscribe();
        let running = start(
            &fixture_server(&gate),
            HttpConfig::default().event_store(store),
        )
        .await;
        let addr = running.local_addr();
        let session = initialize(addr).await;

        let x = send(
            addr,
            post(addr, Some(&session), &call_message(1, "lockstep")),
        )
        .await;
        let mut events = x.sse();
        assert_eq!(events.next().await.unwrap().id.as_deref(), Some("1:0"));
        let first = events.next().await.unwrap();
        assert_eq!(first.id.as_deref(), Some("1:1"));
        assert_eq!(progress_of(&first.message()).0, 1.0);
        gate.release();
        let second = events.next().await.unwrap();
        assert_eq!(second.id.as_deref(), Some("1:2"));
        assert_eq!(progress_of(&second.message()).0, 2.0);

        // The connection drops mid-stream. The tool goes on (items 3, 4, 5), unread.
        drop(events);
        for _ in 0..3 {
            gate.release();
        }
        stored.wait_for(|&seq| seq >= 5).await.unwrap();

        // Another session cannot read this stream.
        let other = initialize(addr).await;
        let x = send(addr, get(addr, &other, Some("1:2"))).await;
        assert_eq!(x.status, StatusCode::OK);
        assert!(
            x.sse().next().await.is_none(),
            "a foreign stream replays nothing"
        );

        let x = send(addr, get(addr, &session, Some("1:2"))).await;
        assert_eq!(x.status, StatusCode::OK);
        let mut resumed = x.sse();
        let mut ids = Vec::new();
        for i in 3..=ITEMS {
            let event = resumed.next().await.expect("a missed event");
            assert_eq!(progress_of(&event.message()).0, f64::from(i));
            ids.push(event.id.unwrap());
        }
        // The stream is still open: the response comes live, once the tool may finish.
        gate.release();
        let last = resumed.next().await.expect("the response");
        let response = last.message();
        assert_eq!(response["id"], 1);
        assert_eq!(response["result"]["content"][0]["text"], "done");
        ids.push(last.id.unwrap());
        assert_eq!(ids, ["1:3", "1:4", "1:5", "1:6"]);
        assert!(
            resumed.next().await.is_none(),
            "the stream ends after the response"
        );

        // Resuming a finished stream replays its tail, then ends.
        let x = send(addr, get(addr, &session, Some("1:5"))).await;
        let mut tail = x.sse();
        assert_eq!(tail.next().await.unwrap().id.as_deref(), Some("1:6"));
        assert!(tail.next().await.is_none());

        let x = send(addr, get(addr, &session, Some("garbage"))).await;
        assert_eq!(x.status, StatusCode::BAD_REQUEST);
        x.message().await;
    })
    .await
    .expect("timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_disconnects_leaves_no_task_behind() {
    timeout(LIMIT, async {
        let gate = Gate::new();
        let running = start(&fixture_server(&gate), HttpConfig::default()).await;
        let addr = running.local_addr();
        let mut stats = running.service().watch_stats();
        let session = initialize(addr).await;

        let x = send(
            addr,
            post(addr, Some(&session), &call_message(1, "lockstep")),
        )
        .await;
        let mut events = x.sse();
        let message = events.next_message().await.unwrap();
        assert_eq!(progress_of(&message).0, 1.0);
        assert_eq!(running.service().stats().open_streams, 1);
        assert_eq!(running.service().stats().connections, 1);
        drop(events);

        // The server notices the connection is gone...
        stats.wait_for(|s| s.connections == 0).await.unwrap();
        // ...but the call is not cancelled: it runs to its end, and then nothing is left.
        for _ in 0..ITEMS {
            gate.release();
        }
        gate.finished.acquire().await.unwrap().forget();
        stats.wait_for(|s| s.open_streams == 0).await.unwrap();
        assert_eq!(running.service().stats().connections, 0);

        // The session is still usable.
        let x = send(
            addr,
            post(
                addr,
                Some(&session),
                &json!({"jsonrpc": "2.0", "id": 2, "method": "ping"}),
            ),
        )
        .await;
        assert_eq!(x.answer().await["id"], 2);
    })
    .await
    .expect("timed out: a stream or task was left behind");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_call_ends_its_stream() {
    timeout(LIMIT, async {
        let gate = Gate::new();
        let running = start(&fixture_server(&gate), HttpConfig::default()).await;
        let addr = running.local_addr();
        let mut stats = running.service().watch_stats();
        let session = initialize(addr).await;

        let x = send(
            addr,
            post(addr, Some(&session), &call_message(1, "lockstep")),
        )
        .await;
        let mut events = x.sse();
        assert_eq!(progress_of(&events.next_message().await.unwrap()).0, 1.0);
        let cancel = json!({
            "jsonrpc": "2.0", "method": "notifications/cancelled",
            "params": {"requestId": 1, "reason": "test"}
        });
        let x = send(addr, post(addr, Some(&session), &cancel)).await;
        assert_eq!(x.status, StatusCode::ACCEPTED);
        assert!(
            events.next().await.is_none(),
            "no response after a cancellation"
        );
        stats
            .wait_for(|s| s.open_streams == 0 && s.connections == 0)
            .await
            .unwrap();
    })
    .await
    .expect("timed out: the cancelled call's stream stayed open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_answered_at_once_can_be_resumed_within_the_grace() {
    timeout(LIMIT, async {
        let gate = Gate::new();
        // Streamed and stored only in SSE mode: by default such an answer is one JSON body.
        let config = HttpConfig::default().response_mode(ResponseMode::Sse);
        let running = start(&fixture_server(&gate), config).await;
        let addr = running.local_addr();
        let session = initialize(addr).await;
        // `quick` without a progress token sends nothing before its response: the POST is
        // answered from the request handler itself, without a stream kept open for it.
        let mut ids = Vec::new();
        for id in [1, 2] {
            let message = json!({
                "jsonrpc": "2.0", "id": id, "method": "tools/call",
                "params": {"name": "quick", "arguments": {}}
            });
            let x = send(addr, post(addr, Some(&session), &message)).await;
            assert_eq!(x.status, StatusCode::OK);
            let mut events = x.sse();
            let priming = events.next().await.expect("the priming event");
            let answer = events.next().await.expect("the response");
            assert!(events.next().await.is_none(), "the stream ends with it");
            let value: serde_json::Value = serde_json::from_str(&answer.data).unwrap();
            assert_eq!(value["id"], id);
            assert_eq!(value["result"]["content"][0]["text"], "quick done");
            let (stream, seq) = answer.id.as_deref().unwrap().split_once(':').unwrap();
            assert_eq!(seq, "1");
            assert_eq!(priming.id.as_deref(), Some(format!("{stream}:0").as_str()));
            ids.push(stream.to_owned());
        }
        assert_ne!(ids[0], ids[1], "each POST has a stream of its own");
        assert_eq!(running.service().stats().open_streams, 0);
        // A client that lost the first response gets it again from the store.
        let x = send(addr, get(addr, &session, Some(&format!("{}:0", ids[0])))).await;
        assert_eq!(x.status, StatusCode::OK);
        let mut events = x.sse();
        let again = events.next_message().await.expect("the stored response");
        assert_eq!(again["id"], 1);
        assert_eq!(again["result"]["content"][0]["text"], "quick done");
        assert!(events.next().await.is_none());
    })
    .await
    .expect("timed out");
}

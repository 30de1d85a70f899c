//! Session admission: one client cannot monopolise the session table. At the limit, unused
//! sessions make room (the least recently used of the client holding the most), sessions
//! never used after `initialize` expire quickly, and a forwarded client address counts only
//! when a trusted proxy reports it.

mod http_support;

use std::net::SocketAddr;
use std::time::Duration;

use http::StatusCode;
use http_support::*;
use mcp_transport::http::{HttpConfig, TrustedProxy};
use serde_json::json;
use tokio::time::timeout;

const FLOODER: [u8; 4] = [127, 0, 0, 1];
const OTHER: [u8; 4] = [127, 0, 0, 2];

/// `initialize` from `from`; returns the status and the session id, if one was given.
async fn open_from(from: [u8; 4], addr: SocketAddr) -> (StatusCode, Option<String>) {
    let x = send_from(from, addr, post(addr, None, &initialize_message(0))).await;
    let (status, session) = (x.status, x.session());
    let _ = x.bytes().await;
    (status, session)
}

/// Whether `session` still answers a ping.
async fn alive(addr: SocketAddr, session: &str) -> bool {
    let ping = json!({"jsonrpc": "2.0", "id": 9, "method": "ping"});
    let x = send(addr, post(addr, Some(session), &ping)).await;
    let ok = x.status == StatusCode::OK;
    let _ = x.bytes().await;
    ok
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_clients_flood_leaves_room_for_another() {
    timeout(LIMIT, async {
        let gate = Gate::new();
        let config = HttpConfig::default().max_sessions(32);
        let running = start(&fixture_server(&gate), config).await;
        let addr = running.local_addr();

        // The flood fills the table, and goes on: each new session of the flooder takes the
        // place of one of its own, so the flood itself is never refused either.
        for i in 0..200 {
            let (status, _) = open_from(FLOODER, addr).await;
            assert_eq!(status, StatusCode::OK, "flood initialize {i}");
        }
        assert_eq!(running.service().stats().sessions, 32);

        // Another client gets in (on today's main: 503 for 30 minutes) ...
        let (status, mine) = open_from(OTHER, addr).await;
        assert_eq!(status, StatusCode::OK, "the other client is admitted");
        let mine = mine.expect("a session id");
        // ... and keeps its session while the flood goes on.
        for _ in 0..200 {
            open_from(FLOODER, addr).await;
        }
        assert!(
            alive(addr, &mine).await,
            "the other client's session survived"
        );
        assert_eq!(running.service().stats().sessions, 32);
    })
    .await
    .expect("timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_in_use_are_never_taken_and_a_full_table_says_when_to_retry() {
    timeout(LIMIT, async {
        let gate = Gate::new();
        let config = HttpConfig::default().max_sessions(2);
        let running = start(&fixture_server(&gate), config).await;
        let addr = running.local_addr();
        // Two sessions, each holding its GET stream open: in use.
        let mut held = Vec::new();
        for _ in 0..2 {
            let session = initialize(addr).await;
            held.push(send(addr, get(addr, &session, None)).await);
        }
        let x = send_from(OTHER, addr, post(addr, None, &initialize_message(0))).await;
        assert_eq!(x.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(x.header("retry-after"), Some("10"));
        let body = x.message().await;
        assert_eq!(body["error"]["code"], -32000);
        // Once one is let go, its session is unused: it makes room.
        held.pop();
        let mut stats = running.service().watch_stats();
        stats.wait_for(|s| s.connections == 1).await.unwrap();
        // The connection count drops before the session learns its GET stream ended: until
        // it does, the table is still full (503). Ask again until the freed session makes
        // room; the outer timeout fails the test if it never does.
        loop {
            let (status, _) = open_from(OTHER, addr).await;
            if status == StatusCode::OK {
                break;
            }
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_never_used_after_initialize_expire_quickly() {
    timeout(LIMIT, async {
        let gate = Gate::new();
        // Long enough for the kept session's `notifications/initialized` to arrive on a
        // loaded machine (at 300 ms it once came late and its session was gone: 404), short
        // enough for the test.
        let config = HttpConfig::default().handshake_timeout(Duration::from_secs(3));
        let running = start(&fixture_server(&gate), config).await;
        let addr = running.local_addr();
        let mut stats = running.service().watch_stats();
        // Opened and forgotten ...
        for _ in 0..10 {
            let (status, _) = open_from(FLOODER, addr).await;
            assert_eq!(status, StatusCode::OK);
        }
        // ... beside one whose client came back (`notifications/initialized`).
        let kept = initialize(addr).await;
        stats.wait_for(|s| s.sessions == 1).await.unwrap();
        assert!(alive(addr, &kept).await);
    })
    .await
    .expect("timed out: sessions never used after initialize did not expire");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_address_counts_only_from_a_trusted_proxy() {
    timeout(LIMIT, async {
        let gate = Gate::new();
        let proxy: TrustedProxy = "127.0.0.1".parse().unwrap();
        let config = HttpConfig::default()
            .max_sessions(8)
            .trusted_proxies([proxy]);
        let running = start(&fixture_server(&gate), config).await;
        let addr = running.local_addr();
        let via_proxy = |client: &str| {
            let mut request = post(addr, None, &initialize_message(0));
            request
                .headers_mut()
                .insert("x-forwarded-for", client.parse().unwrap());
            request
        };
        // Behind the proxy, the other client is told apart by its forwarded address ...
        let x = send_from(FLOODER, addr, via_proxy("198.51.100.2")).await;
        let mine = x.session().expect("admitted");
        let _ = x.bytes().await;
        for _ in 0..40 {
            let x = send_from(FLOODER, addr, via_proxy("198.51.100.1")).await;
            assert_eq!(x.status, StatusCode::OK);
            let _ = x.bytes().await;
        }
        assert!(alive(addr, &mine).await, "told apart through the proxy");
        // ... while from an untrusted peer the header is the client's own claim: ignored, so
        // a flood that forges a fresh address each time still counts as one client.
        let x = send_from(OTHER, addr, via_proxy("203.0.113.1")).await;
        let forged = x.session().expect("admitted");
        let _ = x.bytes().await;
        for i in 0..40 {
            let forged_addr = format!("203.0.113.{}", i + 2);
            let x = send_from(OTHER, addr, via_proxy(&forged_addr)).await;
            let _ = x.bytes().await;
        }
        assert!(
            !alive(addr, &forged).await,
            "the forging client evicted its own session"
        );
        assert!(alive(addr, &mine).await);
    })
    .await
    .expect("timed out");
}

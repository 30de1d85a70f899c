//! The `streaming-demo` server and the `streaming-client` example, run as the guide runs
//! them.

mod common;

use std::time::Duration;

use common::stdio_common::raw::within;
use mcp_core::CallEvent;
use serde_json::json;
use tokio::process::Command;

const DEMO: &str = env!("CARGO_BIN_EXE_streaming-demo");
const CLIENT: &str = env!("CARGO_BIN_EXE_streaming-client");

#[tokio::test]
async fn count_streams_every_step_before_its_result() {
    within("count over stdio", async {
        let mut command = Command::new(DEMO);
        command.args(["--transport", "stdio"]);
        let server = mcp_transport::stdio::connect(command)
            .await
            .expect("connect to streaming-demo");
        assert_eq!(server.server().server_info.name, "streaming-demo");

        let tools = server.list_tools().await.expect("tools/list");
        assert_eq!(tools.len(), 1);
        let schema = &tools[0].input_schema;
        assert_eq!(tools[0].name, "count");
        assert_eq!(schema["required"], json!(["to"]));
        assert_eq!(schema["properties"]["delay_ms"]["default"], 100);

        let mut call = server
            .call_tool_streaming("count", json!({"to": 5, "delay_ms": 0}))
            .await
            .expect("the call is sent");
        let mut steps = 0;
        loop {
            match call.next_event().await.expect("events until the result") {
                CallEvent::Progress(p) => {
                    steps += 1;
                    assert_eq!(p.progress, steps as f64);
                    assert_eq!(p.total, Some(5.0));
                    assert_eq!(p.message, Some(format!("step {steps} of 5")));
                }
                CallEvent::Done(result) => {
                    assert_eq!(result.expect("a result").text(), "counted to 5");
                    break;
                }
            }
        }
        assert_eq!(steps, 5);

        // Bad arguments are a tool error the model can read, not a protocol error.
        let result = server
            .call_tool("count", json!({"to": "five"}))
            .await
            .expect("a result");
        assert!(result.is_error(), "{result:?}");

        let status = server
            .shutdown(Duration::from_secs(20))
            .await
            .expect("the server exits");
        assert!(status.success(), "{status:?}");
    })
    .await;
}

#[tokio::test]
async fn the_client_example_prints_each_event_then_the_result() {
    let output = within(
        "streaming-client",
        Command::new(CLIENT)
            .args([DEMO, "--to", "3", "--delay-ms", "0"])
            .output(),
    )
    .await
    .expect("streaming-client runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{:?}\n{stdout}", output.status);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{stdout}");
    assert_eq!(lines[0], "connected to streaming-demo 0.1.0");
    for (i, line) in lines[1..4].iter().enumerate() {
        let step = i + 1;
        assert!(
            line.ends_with(&format!("progress {step}/3: step {step} of 3")),
            "{line}"
        );
    }
    assert!(lines[4].ends_with("result: counted to 3"), "{}", lines[4]);
}

#[tokio::test]
async fn the_client_example_finds_the_server_next_to_itself() {
    // Without a server argument it runs the streaming-demo built beside it.
    let output = within(
        "streaming-client without arguments",
        Command::new(CLIENT)
            .args(["--to", "1", "--delay-ms", "0"])
            .output(),
    )
    .await
    .expect("streaming-client runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{:?}\n{stdout}", output.status);
    assert!(stdout.contains("result: counted to 1"), "{stdout}");
}

/// Starts `streaming-demo --transport http` on a free port and waits until it listens.
async fn demo_over_http() -> (tokio::process::Child, std::net::SocketAddr) {
    let port = common::ports::listen_port();
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    let child = Command::new(DEMO)
        .args(["--transport", "http", "--bind", &addr.to_string()])
        .kill_on_drop(true)
        .spawn()
        .expect("streaming-demo starts");
    within("streaming-demo listens", async {
        while tokio::net::TcpStream::connect(addr).await.is_err() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    (child, addr)
}

#[tokio::test]
async fn the_client_example_over_http_and_sse() {
    let (_server, addr) = demo_over_http().await;
    for path in ["mcp", "sse"] {
        let url = format!("http://{addr}/{path}");
        let output = within(
            "streaming-client --url",
            Command::new(CLIENT)
                .args(["--url", &url, "--to", "3", "--delay-ms", "0"])
                .output(),
        )
        .await
        .expect("streaming-client runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{url}: {:?}\n{stdout}",
            output.status
        );
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 5, "{stdout}");
        for (i, line) in lines[1..4].iter().enumerate() {
            let step = i + 1;
            assert!(
                line.ends_with(&format!("progress {step}/3: step {step} of 3")),
                "{line}"
            );
        }
        assert!(lines[4].ends_with("result: counted to 3"), "{}", lines[4]);
    }
}

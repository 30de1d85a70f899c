//! The conformance suite's fixture server (`examples::conformance`), checked in process over
//! the stdio framing: what each scenario of `@modelcontextprotocol/conformance` 0.1.16 looks
//! for, plus a little more (level filtering, completion, subscriptions). Every message the
//! server writes is checked against the official 2025-11-25 schema as it is read.
//! `scripts/conformance.sh` runs the suite itself against the same server over HTTP.

mod common;

use common::stdio_common::raw::{RawPeer, error_code, is_response_to, within};
use serde_json::{Value, json};

/// Starts the conformance server on in-memory pipes and completes the handshake as a client
/// that can sample and elicit.
async fn connect() -> RawPeer {
    let server = examples::conformance::server().expect("the server builds");
    let (client_end, server_end) = tokio::io::duplex(1 << 20);
    let (server_read, server_write) = tokio::io::split(server_end);
    tokio::spawn(async move {
        let _ = mcp_transport::stdio::serve_io(&server, server_read, server_write).await;
    });
    let (read, write) = tokio::io::split(client_end);
    let mut peer = RawPeer::new(read, write);
    let params = json!({
        "protocolVersion": "2025-11-25",
        "capabilities": {"sampling": {}, "elicitation": {}},
        "clientInfo": {"name": "conformance-fixture-test", "version": "0"}
    });
    let init = peer.request(0, "initialize", params).await;
    let capabilities = &init["result"]["capabilities"];
    for what in ["tools", "prompts", "logging", "completions"] {
        assert!(capabilities.get(what).is_some(), "no {what}: {init}");
    }
    assert_eq!(capabilities["resources"]["subscribe"], true, "{init}");
    peer.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .await;
    peer
}

/// What one call produced: its response, and the notifications and server requests that
/// arrived before it, in order.
struct Exchange {
    response: Value,
    notifications: Vec<Value>,
    requests: Vec<Value>,
}

impl Exchange {
    fn result(&self) -> &Value {
        assert!(self.response.get("result").is_some(), "{}", self.response);
        &self.response["result"]
    }

    fn notifications(&self, method: &str) -> Vec<&Value> {
        self.notifications
            .iter()
            .filter(|n| n["method"] == method)
            .map(|n| &n["params"])
            .collect()
    }
}

/// Sends request `id` and reads until its response, answering each request from the server
/// with `answer` (the result of sampling or elicitation).
async fn exchange(
    peer: &mut RawPeer,
    id: i64,
    method: &str,
    params: Value,
    answer: &Value,
) -> Exchange {
    peer.send_request(id, method, params).await;
    let mut notifications = Vec::new();
    let mut requests = Vec::new();
    loop {
        let message = peer.recv().await.expect("the server is still there");
        if is_response_to(&message, id) {
            return Exchange {
                response: message,
                notifications,
                requests,
            };
        }
        match (message.get("method"), message.get("id")) {
            (Some(_), Some(request_id)) => {
                let reply = json!({"jsonrpc": "2.0", "id": request_id, "result": answer});
                requests.push(message.clone());
                peer.send(reply).await;
            }
            (Some(_), None) => notifications.push(message),
            _ => panic!("an unexpected message: {message}"),
        }
    }
}

/// Calls `tool` (request id and progress token `id`) with no server requests expected.
async fn call(peer: &mut RawPeer, id: i64, tool: &str, arguments: Value) -> Exchange {
    let params = json!({"name": tool, "arguments": arguments, "_meta": {"progressToken": id}});
    let done = exchange(peer, id, "tools/call", params, &Value::Null).await;
    assert!(done.requests.is_empty(), "{:?}", done.requests);
    done
}

fn content(exchange: &Exchange) -> &Vec<Value> {
    exchange.result()["content"]
        .as_array()
        .expect("a content array")
}

#[tokio::test]
async fn every_tool_the_suite_calls_is_listed_with_a_description() {
    let mut peer = connect().await;
    within("tools/list", async {
        let list = peer.request(1, "tools/list", json!({})).await;
        let tools = list["result"]["tools"].as_array().unwrap();
        for tool in tools {
            let description = tool["description"].as_str().unwrap_or_default();
            assert!(!description.is_empty(), "no description: {tool}");
        }
        let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
        for wanted in [
            "test_simple_text",
            "test_image_content",
            "test_audio_content",
            "test_embedded_resource",
            "test_multiple_content_types",
            "test_tool_with_logging",
            "test_tool_with_progress",
            "test_error_handling",
            "test_sampling",
            "test_elicitation",
            "test_elicitation_sep1034_defaults",
            "test_elicitation_sep1330_enums",
            "json_schema_2020_12_tool",
        ] {
            assert!(
                names.contains(&wanted),
                "{wanted} is missing from {names:?}"
            );
        }
        // SEP-1613: 2020-12 keywords reach the client untouched.
        let schema = &tools
            .iter()
            .find(|t| t["name"] == "json_schema_2020_12_tool")
            .unwrap()["inputSchema"];
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        assert_eq!(schema["$defs"]["address"]["type"], "object");
        assert_eq!(schema["additionalProperties"], false);
    })
    .await;
}

#[tokio::test]
async fn content_tools_return_each_kind_of_block() {
    let mut peer = connect().await;
    within("the content tools", async {
        let r = call(&mut peer, 1, "test_simple_text", json!({})).await;
        assert_eq!(
            content(&r)[0],
            json!({"type": "text", "text": "This is a simple text response for testing."})
        );
        let r = call(&mut peer, 2, "test_image_content", json!({})).await;
        assert_eq!(content(&r)[0]["type"], "image");
        assert_eq!(content(&r)[0]["mimeType"], "image/png");
        // Base64 of the PNG signature.
        assert!(
            content(&r)[0]["data"]
                .as_str()
                .unwrap()
                .starts_with("iVBORw0KGgo")
        );
        let r = call(&mut peer, 3, "test_audio_content", json!({})).await;
        assert_eq!(content(&r)[0]["mimeType"], "audio/wav");
        // Base64 of "RIFF".
        assert!(
            content(&r)[0]["data"]
                .as_str()
                .unwrap()
                .starts_with("UklGR")
        );
        let r = call(&mut peer, 4, "test_embedded_resource", json!({})).await;
        let resource = &content(&r)[0]["resource"];
        assert_eq!(resource["uri"], "test://embedded-resource");
        assert_eq!(resource["mimeType"], "text/plain");
        assert_eq!(resource["text"], "This is an embedded resource content.");
        let r = call(&mut peer, 5, "test_multiple_content_types", json!({})).await;
        let kinds: Vec<&Value> = content(&r).iter().map(|c| &c["type"]).collect();
        assert_eq!(kinds, [&json!("text"), &json!("image"), &json!("resource")]);
        let embedded: Value =
            serde_json::from_str(content(&r)[2]["resource"]["text"].as_str().unwrap()).unwrap();
        assert_eq!(embedded, json!({"test": "data", "value": 123}));
        let r = call(&mut peer, 6, "test_error_handling", json!({})).await;
        assert_eq!(r.result()["isError"], true);
        assert_eq!(
            content(&r)[0]["text"],
            "This tool intentionally returns an error for testing"
        );
    })
    .await;
}

#[tokio::test]
async fn logging_sends_three_messages_and_honours_the_level() {
    let mut peer = connect().await;
    within("logging", async {
        let r = peer
            .request(1, "logging/setLevel", json!({"level": "debug"}))
            .await;
        assert_eq!(r["result"], json!({}), "{r}");
        let r = call(&mut peer, 2, "test_tool_with_logging", json!({})).await;
        let logs: Vec<&Value> = r
            .notifications("notifications/message")
            .into_iter()
            .map(|p| &p["data"])
            .collect();
        assert_eq!(
            logs,
            [
                &json!("Tool execution started"),
                &json!("Tool processing data"),
                &json!("Tool execution completed")
            ]
        );
        // At `warning`, the tool's info messages are filtered out.
        peer.request(3, "logging/setLevel", json!({"level": "warning"}))
            .await;
        let r = call(&mut peer, 4, "test_tool_with_logging", json!({})).await;
        assert!(r.notifications("notifications/message").is_empty());
    })
    .await;
}

#[tokio::test]
async fn progress_goes_0_50_100_of_100_before_the_result() {
    let mut peer = connect().await;
    within("progress", async {
        let r = call(&mut peer, 7, "test_tool_with_progress", json!({})).await;
        let steps: Vec<(Value, Value, Value)> = r
            .notifications("notifications/progress")
            .into_iter()
            .map(|p| {
                (
                    p["progressToken"].clone(),
                    p["progress"].clone(),
                    p["total"].clone(),
                )
            })
            .collect();
        assert_eq!(
            steps,
            [
                (json!(7), json!(0.0), json!(100.0)),
                (json!(7), json!(50.0), json!(100.0)),
                (json!(7), json!(100.0), json!(100.0))
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn sampling_asks_the_client_and_returns_its_answer() {
    let mut peer = connect().await;
    within("sampling", async {
        let params = json!({"name": "test_sampling", "arguments": {"prompt": "Test prompt"}});
        let answer = json!({
            "role": "assistant",
            "content": {"type": "text", "text": "a test answer"},
            "model": "test-model",
            "stopReason": "endTurn"
        });
        let r = exchange(&mut peer, 1, "tools/call", params, &answer).await;
        assert_eq!(r.requests.len(), 1, "{:?}", r.requests);
        let request = &r.requests[0];
        assert_eq!(request["method"], "sampling/createMessage");
        assert_eq!(request["params"]["maxTokens"], 100);
        assert_eq!(
            request["params"]["messages"],
            json!([{"role": "user", "content": {"type": "text", "text": "Test prompt"}}])
        );
        assert_eq!(content(&r)[0]["text"], "LLM response: a test answer");
    })
    .await;
}

/// Calls an elicitation tool, accepting with `values`; returns the elicitation request's
/// params and the tool's text.
async fn elicit(
    peer: &mut RawPeer,
    id: i64,
    tool: &str,
    arguments: Value,
    values: Value,
) -> (Value, String) {
    let params = json!({"name": tool, "arguments": arguments});
    let answer = json!({"action": "accept", "content": values});
    let r = exchange(peer, id, "tools/call", params, &answer).await;
    assert_eq!(r.requests.len(), 1, "{:?}", r.requests);
    assert_eq!(r.requests[0]["method"], "elicitation/create");
    let text = content(&r)[0]["text"].as_str().unwrap().to_owned();
    (r.requests[0]["params"].clone(), text)
}

#[tokio::test]
async fn elicitation_tools_ask_with_the_schemas_the_suite_expects() {
    let mut peer = connect().await;
    within("elicitation", async {
        let (params, text) = elicit(
            &mut peer,
            1,
            "test_elicitation",
            json!({"message": "Please provide your information"}),
            json!({"username": "testuser", "email": "test@example.com"}),
        )
        .await;
        assert_eq!(params["message"], "Please provide your information");
        assert_eq!(params["requestedSchema"]["required"], json!(["username", "email"]));
        assert_eq!(
            text,
            r#"User response: action=accept, content={"email":"test@example.com","username":"testuser"}"#
        );

        let (params, text) = elicit(
            &mut peer,
            2,
            "test_elicitation_sep1034_defaults",
            json!({}),
            json!({"name": "Jane Smith", "age": 25, "score": 88, "status": "inactive", "verified": false}),
        )
        .await;
        let p = &params["requestedSchema"]["properties"];
        assert_eq!(
            (&p["name"]["default"], &p["age"]["default"], &p["score"]["default"]),
            (&json!("John Doe"), &json!(30), &json!(95.5))
        );
        assert_eq!((&p["age"]["type"], &p["score"]["type"]), (&json!("integer"), &json!("number")));
        assert_eq!((&p["status"]["default"], &p["verified"]["default"]), (&json!("active"), &json!(true)));
        assert!(text.starts_with("Elicitation completed: action=accept"), "{text}");

        let (params, _) = elicit(
            &mut peer,
            3,
            "test_elicitation_sep1330_enums",
            json!({}),
            json!({"untitledSingle": "option1", "untitledMulti": ["option1", "option2"]}),
        )
        .await;
        let p = &params["requestedSchema"]["properties"];
        assert_eq!(p["untitledSingle"]["enum"], json!(["option1", "option2", "option3"]));
        assert!(p["untitledSingle"].get("oneOf").is_none());
        assert_eq!(p["titledSingle"]["oneOf"][0], json!({"const": "value1", "title": "First Option"}));
        assert!(p["titledSingle"].get("enum").is_none());
        assert_eq!(p["legacyEnum"]["enumNames"].as_array().unwrap().len(), 3);
        assert_eq!(p["untitledMulti"]["items"]["enum"].as_array().unwrap().len(), 3);
        assert_eq!(p["titledMulti"]["items"]["anyOf"][1]["title"], "Second Choice");
    })
    .await;
}

#[tokio::test]
async fn resources_list_read_templates_and_complete() {
    let mut peer = connect().await;
    within("resources", async {
        let list = peer.request(1, "resources/list", json!({})).await;
        let uris: Vec<&Value> = list["result"]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| &r["uri"])
            .collect();
        assert_eq!(
            uris,
            [
                &json!("test://static-text"),
                &json!("test://static-binary"),
                &json!("test://watched-resource")
            ]
        );
        let r = peer
            .request(2, "resources/read", json!({"uri": "test://static-text"}))
            .await;
        assert_eq!(
            r["result"]["contents"][0],
            json!({
                "uri": "test://static-text",
                "mimeType": "text/plain",
                "text": "This is the content of the static text resource."
            })
        );
        let r = peer
            .request(3, "resources/read", json!({"uri": "test://static-binary"}))
            .await;
        assert_eq!(r["result"]["contents"][0]["mimeType"], "image/png");
        assert!(
            r["result"]["contents"][0]["blob"]
                .as_str()
                .unwrap()
                .starts_with("iVBORw0KGgo")
        );

        let r = peer.request(4, "resources/templates/list", json!({})).await;
        assert_eq!(
            r["result"]["resourceTemplates"][0]["uriTemplate"],
            "test://template/{id}/data"
        );
        let r = peer
            .request(
                5,
                "resources/read",
                json!({"uri": "test://template/123/data"}),
            )
            .await;
        let contents = &r["result"]["contents"][0];
        assert_eq!(contents["uri"], "test://template/123/data");
        let data: Value = serde_json::from_str(contents["text"].as_str().unwrap()).unwrap();
        assert_eq!(
            data,
            json!({"id": "123", "templateTest": true, "data": "Data for ID: 123"})
        );
        let r = peer
            .request(6, "resources/read", json!({"uri": "test://template//data"}))
            .await;
        assert_eq!(error_code(&r), -32002, "{r}");
        let r = peer
            .request(7, "resources/read", json!({"uri": "test://nothing"}))
            .await;
        assert_eq!(error_code(&r), -32002, "{r}");

        let r = peer
            .request(
                8,
                "completion/complete",
                json!({
                    "ref": {"type": "ref/resource", "uri": "test://template/{id}/data"},
                    "argument": {"name": "id", "value": "12"}
                }),
            )
            .await;
        assert_eq!(r["result"]["completion"]["values"], json!(["123", "124"]));
    })
    .await;
}

#[tokio::test]
async fn subscribers_hear_of_changes_until_they_unsubscribe() {
    let mut peer = connect().await;
    within("subscriptions", async {
        let uri = "test://watched-resource";
        let r = peer.request(1, "resources/read", json!({"uri": uri})).await;
        assert!(
            r["result"]["contents"][0]["text"]
                .as_str()
                .unwrap()
                .ends_with("revision 0")
        );
        let r = peer
            .request(2, "resources/subscribe", json!({"uri": uri}))
            .await;
        assert_eq!(r["result"], json!({}), "{r}");
        // The update notification is sent before the tool returns, on the same stdio stream.
        let r = call(&mut peer, 3, "update_watched_resource", json!({})).await;
        let updates = r.notifications("notifications/resources/updated");
        assert_eq!(updates, [&json!({"uri": uri})]);
        let r = peer.request(4, "resources/read", json!({"uri": uri})).await;
        assert!(
            r["result"]["contents"][0]["text"]
                .as_str()
                .unwrap()
                .ends_with("revision 1")
        );

        let r = peer
            .request(5, "resources/unsubscribe", json!({"uri": uri}))
            .await;
        assert_eq!(r["result"], json!({}), "{r}");
        let r = call(&mut peer, 6, "update_watched_resource", json!({})).await;
        assert!(
            r.notifications("notifications/resources/updated")
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn prompts_expand_and_complete() {
    let mut peer = connect().await;
    within("prompts", async {
        let list = peer.request(1, "prompts/list", json!({})).await;
        let prompts = list["result"]["prompts"].as_array().unwrap();
        // The four of the stateful scenarios, and the one that asks for input (2026-07-28).
        assert_eq!(prompts.len(), 5);
        for prompt in prompts {
            assert!(prompt["description"].as_str().is_some_and(|d| !d.is_empty()), "{prompt}");
        }
        let r = peer.request(2, "prompts/get", json!({"name": "test_simple_prompt"})).await;
        assert_eq!(
            r["result"]["messages"],
            json!([{"role": "user", "content": {"type": "text", "text": "This is a simple prompt for testing."}}])
        );
        let r = peer
            .request(
                3,
                "prompts/get",
                json!({"name": "test_prompt_with_arguments", "arguments": {"arg1": "hello", "arg2": "world"}}),
            )
            .await;
        assert_eq!(
            r["result"]["messages"][0]["content"]["text"],
            "Prompt with arguments: arg1='hello', arg2='world'"
        );
        let r = peer
            .request(
                4,
                "prompts/get",
                json!({"name": "test_prompt_with_arguments", "arguments": {"arg1": "hello"}}),
            )
            .await;
        assert_eq!(error_code(&r), -32602, "a missing argument: {r}");
        let r = peer
            .request(
                5,
                "prompts/get",
                json!({"name": "test_prompt_with_embedded_resource", "arguments": {"resourceUri": "test://example-resource"}}),
            )
            .await;
        let first = &r["result"]["messages"][0]["content"];
        assert_eq!((&first["type"], &first["resource"]["uri"]), (&json!("resource"), &json!("test://example-resource")));
        let r = peer.request(6, "prompts/get", json!({"name": "test_prompt_with_image"})).await;
        let first = &r["result"]["messages"][0]["content"];
        assert_eq!((&first["type"], &first["mimeType"]), (&json!("image"), &json!("image/png")));

        let r = peer
            .request(
                7,
                "completion/complete",
                json!({
                    "ref": {"type": "ref/prompt", "name": "test_prompt_with_arguments"},
                    "argument": {"name": "arg1", "value": "par"}
                }),
            )
            .await;
        assert_eq!(
            r["result"]["completion"],
            json!({"values": ["paris", "park", "party"], "total": 3, "hasMore": false})
        );
    })
    .await;
}

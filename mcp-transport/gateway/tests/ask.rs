//! Questions of a mounted server's tool for the user (elicitation here), relayed through the
//! gateway to its caller and the answers back: in a session (a server-to-client request), and
//! in the 2026-07-28 era, where two questions asked together reach the caller in one
//! `input_required` round, under the keys the tool gave them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_core::client::{ClientEra, ClientOptions, InputRoundHandler, RequestHandler};
use mcp_core::jsonrpc::{JsonObject, Request};
use mcp_core::protocol::{ClientCapabilities, ElicitResult};
use mcp_core::{Client, Context, RequestError, Server, memory, tool};
use mcp_gateway::{Gateway, Remote, RemoteOptions, Upstream};
use serde_json::json;

const LIMIT: Duration = Duration::from_secs(20);

fn object(value: serde_json::Value) -> JsonObject {
    match value {
        serde_json::Value::Object(o) => o,
        _ => unreachable!("an object"),
    }
}

fn answer_of(answer: &ElicitResult) -> String {
    answer
        .content
        .as_ref()
        .and_then(|c| c.get("name"))
        .and_then(|v| v.as_str())
        .unwrap_or("(none)")
        .to_owned()
}

/// Asks for a first and a last name at once.
#[tool]
async fn names(ctx: Context) -> Result<String, RequestError> {
    let form = object(json!({"type": "object", "properties": {"name": {"type": "string"}}}));
    let (first, last) = tokio::join!(
        ctx.input("first").elicit("Your first name?", form.clone()),
        ctx.input("last").elicit("Your last name?", form.clone()),
    );
    Ok(format!("{} {}", answer_of(&first?), answer_of(&last?)))
}

/// A gateway (in process) in front of a server with `names`, mounted under `down`.
async fn gateway() -> Server {
    let server = Server::builder("down", "1").tool(names).build().unwrap();
    let remote = Remote::start(
        "down",
        Upstream::InProcess(server),
        RemoteOptions::default(),
    );
    tokio::time::timeout(LIMIT, remote.ready(LIMIT))
        .await
        .unwrap()
        .unwrap();
    let front = Gateway::from_remotes("gateway", vec![("down".into(), remote)])
        .server()
        .unwrap();
    front.start_plugins().await.unwrap();
    front
}

/// Answers "What's your first/last name?" with "Ada"/"Lovelace".
fn reply(request: &Request) -> JsonObject {
    let message = request
        .params
        .as_ref()
        .and_then(|p| p.get("message"))
        .and_then(|m| m.as_str())
        .unwrap_or_default();
    let name = if message.contains("first") {
        "Ada"
    } else {
        "Lovelace"
    };
    object(json!({"action": "accept", "content": {"name": name}}))
}

fn capabilities() -> ClientCapabilities {
    ClientCapabilities {
        elicitation: Some(JsonObject::new()),
        ..ClientCapabilities::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sessions_caller_answers_the_mounted_tools_questions() {
    let front = gateway().await;
    let handler: RequestHandler = Arc::new(|request| {
        let answer = reply(&request);
        Box::pin(async move { Ok(answer) })
    });
    let options = ClientOptions {
        era: ClientEra::Stateful,
        capabilities: capabilities(),
        on_request: Some(handler),
        ..ClientOptions::default()
    };
    let client: Client = memory::connect_with(&front, options).await.unwrap();
    let result = tokio::time::timeout(LIMIT, client.call_tool("down_names", json!({})))
        .await
        .unwrap()
        .unwrap();
    assert!(
        format!("{:?}", result.content).contains("Ada Lovelace"),
        "{result:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2026_07_28_caller_gets_both_questions_in_one_round_under_their_keys() {
    let front = gateway().await;
    let rounds: Arc<Mutex<Vec<Vec<String>>>> = Arc::default();
    let seen = rounds.clone();
    let handler: InputRoundHandler = Arc::new(move |requests: Vec<Request>| {
        let keys = requests.iter().map(|r| r.id.to_string()).collect();
        seen.lock().unwrap().push(keys);
        let answers = requests.iter().map(|r| Ok(reply(r))).collect();
        Box::pin(async move { answers })
    });
    let options = ClientOptions {
        era: ClientEra::Stateless,
        capabilities: capabilities(),
        on_input_round: Some(handler),
        ..ClientOptions::default()
    };
    let client = memory::connect_with(&front, options).await.unwrap();
    let result = tokio::time::timeout(LIMIT, client.call_tool("down_names", json!({})))
        .await
        .unwrap()
        .unwrap();
    assert!(
        format!("{:?}", result.content).contains("Ada Lovelace"),
        "{result:?}"
    );
    assert_eq!(*rounds.lock().unwrap(), [["\"first\"", "\"last\""]]);
}

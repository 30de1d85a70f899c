//! The client side of stdio: a server run as a child process, spoken to over its stdin and
//! stdout.

use std::ops::Deref;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use mcp_core::{Client, ClientChannel, ClientOptions};
use tokio::process::{Child, ChildStderr, Command};
use tokio_util::sync::CancellationToken;

use super::StdioClientError;
use super::client::{ChannelOptions, spawn_io};

/// What happens to the child's stderr, where a stdio server writes its logs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StderrMode {
    /// The child writes to this process's stderr (the default).
    #[default]
    Inherit,
    /// The child's stderr is a pipe, taken with [`ChildProcess::take_stderr`]. Read it: a
    /// child whose stderr pipe fills up stops.
    Capture,
    /// The child's stderr goes nowhere.
    Discard,
}

/// Options for [`spawn_with`] and [`connect_with`].
#[derive(Debug, Clone)]
pub struct StdioClientOptions {
    /// The MCP client's options (identity, capabilities, protocol revision).
    pub client: ClientOptions,
    /// Framing and queue options.
    pub channel: ChannelOptions,
    /// What happens to the child's stderr.
    pub stderr: StderrMode,
    /// How long the `initialize` handshake may take before [`connect_with`] gives up.
    pub connect_timeout: Duration,
}

impl Default for StdioClientOptions {
    fn default() -> Self {
        StdioClientOptions {
            client: ClientOptions::default(),
            channel: ChannelOptions::default(),
            stderr: StderrMode::default(),
            connect_timeout: Duration::from_secs(30),
        }
    }
}

/// A running server process. Dropping it kills the process and its whole process group.
#[derive(Debug)]
pub struct ChildProcess {
    child: Child,
    /// The child's process group (it leads its own), killed as a whole.
    group: Option<u32>,
    close_stdin: CancellationToken,
    stderr: Option<ChildStderr>,
}

impl ChildProcess {
    /// The child's process id, while it runs.
    pub fn id(&self) -> Option<u32> {
        self.child.id()
    }

    /// The child's stderr, when spawned with [`StderrMode::Capture`] (once).
    pub fn take_stderr(&mut self) -> Option<ChildStderr> {
        self.stderr.take()
    }

    /// Closes the child's stdin: a stdio server takes that as the end of the session.
    pub fn close_stdin(&self) {
        self.close_stdin.cancel();
    }

    /// Waits for the child to exit.
    pub async fn wait(&mut self) -> Result<ExitStatus, StdioClientError> {
        self.child.wait().await.map_err(StdioClientError::Process)
    }

    /// The child's exit status, if it has exited.
    pub fn try_wait(&mut self) -> Result<Option<ExitStatus>, StdioClientError> {
        self.child.try_wait().map_err(StdioClientError::Process)
    }

    /// Kills the child's whole process group at once (`SIGKILL`), without waiting.
    pub fn kill(&mut self) {
        kill_group(self.group);
        let _ = self.child.start_kill();
    }

    /// Ends the child politely: closes its stdin, waits up to `grace` for it to exit, then
    /// kills its process group. Returns its exit status.
    pub async fn shutdown(mut self, grace: Duration) -> Result<ExitStatus, StdioClientError> {
        self.close_stdin();
        let status = match tokio::time::timeout(grace, self.child.wait()).await {
            Ok(status) => status.map_err(StdioClientError::Process)?,
            Err(_) => {
                tracing::warn!(pid = ?self.group, "the server did not exit in time; killing it");
                self.kill();
                self.wait().await?
            }
        };
        // Whatever the server started in its group goes with it.
        kill_group(self.group.take());
        Ok(status)
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        // `kill_on_drop` takes care of the child itself; this takes its process group.
        kill_group(self.group);
    }
}

#[cfg(unix)]
fn kill_group(group: Option<u32>) {
    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::Pid;
    let Some(group) = group.and_then(|g| i32::try_from(g).ok()) else {
        return;
    };
    match killpg(Pid::from_raw(group), Signal::SIGKILL) {
        Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
        Err(error) => tracing::warn!(group, %error, "could not kill the server's process group"),
    }
}

#[cfg(not(unix))]
fn kill_group(_group: Option<u32>) {}

/// Starts `command` as a stdio server and returns the client's ends of its pipes.
///
/// The child gets piped stdin and stdout, its own process group (on Unix) and
/// `kill_on_drop`; its stderr is inherited.
pub fn spawn(command: Command) -> Result<(ClientChannel, ChildProcess), StdioClientError> {
    spawn_with(command, &StdioClientOptions::default())
}

/// [`spawn`] with options.
pub fn spawn_with(
    mut command: Command,
    options: &StdioClientOptions,
) -> Result<(ClientChannel, ChildProcess), StdioClientError> {
    let stderr = match options.stderr {
        StderrMode::Inherit => Stdio::inherit(),
        StderrMode::Capture => Stdio::piped(),
        StderrMode::Discard => Stdio::null(),
    };
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);
    let program = command
        .as_std()
        .get_program()
        .to_string_lossy()
        .into_owned();
    let child = command
        .spawn()
        .map_err(|source| StdioClientError::Spawn { program, source })?;
    let mut process = ChildProcess {
        group: if cfg!(unix) { child.id() } else { None },
        child,
        close_stdin: CancellationToken::new(),
        stderr: None,
    };
    process.stderr = process.child.stderr.take();
    let stdin = process
        .child
        .stdin
        .take()
        .ok_or(StdioClientError::MissingPipe("stdin"))?;
    let stdout = process
        .child
        .stdout
        .take()
        .ok_or(StdioClientError::MissingPipe("stdout"))?;
    let channel = spawn_io(stdout, stdin, &options.channel, process.close_stdin.clone());
    Ok((channel, process))
}

/// Starts `command` as a stdio server and connects a [`Client`] to it (the `initialize`
/// handshake included).
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use tokio::process::Command;
/// let server = mcp_transport::stdio::connect(Command::new("my-mcp-server")).await?;
/// for tool in server.list_tools().await? {
///     println!("{}", tool.name);
/// }
/// # Ok(()) }
/// ```
pub async fn connect(command: Command) -> Result<StdioClient, StdioClientError> {
    connect_with(command, StdioClientOptions::default()).await
}

/// [`connect`] with options.
pub async fn connect_with(
    command: Command,
    options: StdioClientOptions,
) -> Result<StdioClient, StdioClientError> {
    let (channel, process) = spawn_with(command, &options)?;
    let handshake = Client::connect_with(channel, options.client);
    let client = match tokio::time::timeout(options.connect_timeout, handshake).await {
        Ok(client) => client?,
        Err(_) => return Err(StdioClientError::Timeout(options.connect_timeout)),
    };
    Ok(StdioClient { client, process })
}

/// A [`Client`] connected to a server child process, and that process.
///
/// Dereferences to the [`Client`]. Dropping it kills the server's process group; call
/// [`shutdown`](Self::shutdown) to let the server exit on its own first.
#[derive(Debug)]
pub struct StdioClient {
    client: Client,
    process: ChildProcess,
}

impl StdioClient {
    /// The MCP client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The server process.
    pub fn process(&self) -> &ChildProcess {
        &self.process
    }

    /// The server process, mutably (to take its stderr, say).
    pub fn process_mut(&mut self) -> &mut ChildProcess {
        &mut self.process
    }

    /// The client and the process, apart. The process still dies when its part is dropped.
    pub fn into_parts(self) -> (Client, ChildProcess) {
        (self.client, self.process)
    }

    /// Closes the server's stdin, waits up to `grace` for it to exit, then kills what is
    /// left of its process group.
    pub async fn shutdown(self, grace: Duration) -> Result<ExitStatus, StdioClientError> {
        self.process.shutdown(grace).await
    }
}

impl Deref for StdioClient {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

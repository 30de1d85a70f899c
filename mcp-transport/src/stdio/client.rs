//! The client side on any pair of byte streams: newline-delimited JSON into a
//! [`ClientChannel`].

use mcp_core::{ClientChannel, Message};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::framing::{DEFAULT_MAX_LINE_BYTES, FrameReader, FrameRef, FrameWriter, MAX_BATCH_BYTES};

/// Options for the client side of a newline-delimited JSON connection.
#[derive(Debug, Clone)]
pub struct ChannelOptions {
    /// The longest line accepted from the server; longer ones are skipped with a warning.
    pub max_line_bytes: usize,
    /// The capacity of the queues between the connection and the [`Client`](mcp_core::Client):
    /// how far either side may run ahead before it waits.
    pub capacity: usize,
}

impl Default for ChannelOptions {
    fn default() -> Self {
        ChannelOptions {
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            capacity: mcp_core::transport::DEFAULT_OUTBOX_CAPACITY,
        }
    }
}

/// Wires a server's output (`reader`) and input (`writer`) into a [`ClientChannel`] for
/// [`Client::connect`](mcp_core::Client::connect), with default options.
///
/// Two tasks move the messages: one writes each outgoing message as a flushed line, one
/// parses incoming lines. They end when the client drops its ends or the streams close.
pub fn client_channel<R, W>(reader: R, writer: W) -> ClientChannel
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    client_channel_with(reader, writer, &ChannelOptions::default())
}

/// [`client_channel`] with options.
pub fn client_channel_with<R, W>(reader: R, writer: W, options: &ChannelOptions) -> ClientChannel
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    spawn_io(reader, writer, options, CancellationToken::new())
}

/// Starts the two tasks. Cancelling `close_output` stops writing and drops `writer`, which
/// for a child's stdin tells the server its input has ended.
pub(crate) fn spawn_io<R, W>(
    reader: R,
    writer: W,
    options: &ChannelOptions,
    close_output: CancellationToken,
) -> ClientChannel
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let capacity = options.capacity.max(1);
    let (outgoing, to_write) = mpsc::channel(capacity);
    let (received, incoming) = mpsc::channel(capacity);
    tokio::spawn(write_loop(to_write, FrameWriter::new(writer), close_output));
    tokio::spawn(read_loop(
        FrameReader::new(reader, options.max_line_bytes),
        received,
    ));
    ClientChannel { outgoing, incoming }
}

async fn write_loop<W: AsyncWrite + Unpin>(
    mut to_write: mpsc::Receiver<Message>,
    mut writer: FrameWriter<W>,
    close: CancellationToken,
) {
    loop {
        let message = tokio::select! {
            biased;
            () = close.cancelled() => break,
            message = to_write.recv() => match message {
                Some(message) => message,
                None => break,
            },
        };
        // Whatever else is queued already goes out in the same write; nothing waits for more.
        let mut queued = writer.queue(&message);
        while queued.is_ok() && writer.queued_bytes() < MAX_BATCH_BYTES {
            let Ok(message) = to_write.try_recv() else {
                break;
            };
            queued = writer.queue(&message);
        }
        if let Err(error) = queued {
            tracing::debug!(%error, "a message could not be serialized");
            return;
        }
        if let Err(error) = writer.flush_queued().await {
            tracing::debug!(%error, "the server's input closed");
            return;
        }
    }
    let _ = writer.shutdown().await;
}

async fn read_loop<R: AsyncRead + Unpin>(
    mut frames: FrameReader<R>,
    received: mpsc::Sender<Message>,
) {
    loop {
        let frame = tokio::select! {
            () = received.closed() => return,
            frame = frames.next_frame_with(|frame| match frame {
                FrameRef::Line(bytes) => Some(Message::parse(bytes)),
                FrameRef::TooLong { length } => {
                    tracing::warn!(length, "skipping an over-long line from the server");
                    None
                }
            }) => frame,
        };
        let parsed = match frame {
            Ok(Some(Some(parsed))) => parsed,
            Ok(Some(None)) => continue,
            Ok(None) => return,
            Err(error) => {
                tracing::debug!(%error, "reading the server's output failed");
                return;
            }
        };
        match parsed {
            Ok(message) => {
                if received.send(message).await.is_err() {
                    return;
                }
            }
            Err(error) => {
                tracing::warn!(error = %error.error.message, "skipping an unreadable line from the server");
            }
        }
    }
}

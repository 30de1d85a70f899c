//! An incremental parser for `text/event-stream` bodies (the WHATWG event-stream format).

/// One server-sent event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field; `None` means the default type, `message`.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The `id:` field, if the event set one.
    pub id: Option<String>,
    /// The `retry:` field in milliseconds, if set.
    pub retry: Option<u64>,
}

/// Feeds on body chunks, in whatever pieces they arrive, and returns complete events.
#[derive(Debug, Default)]
pub struct SseParser {
    buffer: Vec<u8>,
    current: SseEvent,
    has_field: bool,
    data_lines: usize,
}

impl SseParser {
    /// A parser with an empty buffer.
    pub fn new() -> Self {
        SseParser::default()
    }

    /// Adds a chunk and returns the events it completed, in order.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        self.buffer.extend_from_slice(chunk);
        let mut events = Vec::new();
        let mut start = 0;
        while let Some(pos) = self.buffer[start..].iter().position(|&b| b == b'\n') {
            let end = start + pos;
            let mut line = &self.buffer[start..end];
            if line.last() == Some(&b'\r') {
                line = &line[..line.len() - 1];
            }
            let line = String::from_utf8_lossy(line).into_owned();
            start = end + 1;
            if let Some(event) = self.line(&line) {
                events.push(event);
            }
        }
        self.buffer.drain(..start);
        events
    }

    /// Bytes held back while waiting for the end of a line.
    pub fn pending_bytes(&self) -> usize {
        self.buffer.len()
    }

    fn line(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            if !self.has_field {
                return None;
            }
            self.has_field = false;
            self.data_lines = 0;
            return Some(std::mem::take(&mut self.current));
        }
        if line.starts_with(':') {
            return None; // a comment: keep-alive
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => self.current.event = Some(value.to_owned()),
            "data" => {
                if self.data_lines > 0 {
                    self.current.data.push('\n');
                }
                self.current.data.push_str(value);
                self.data_lines += 1;
            }
            "id" if !value.contains('\0') => self.current.id = Some(value.to_owned()),
            "retry" => self.current.retry = value.parse().ok(),
            _ => return None,
        }
        self.has_field = true;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_across_chunk_boundaries() {
        let mut p = SseParser::new();
        assert!(p.push(b"id: s1:0\nda").is_empty());
        assert!(p.push(b"ta: {\"a\":1}\r").is_empty());
        let events = p.push(b"\n\n: keep-alive\n\nevent: endpoint\ndata: /messages?x=1\n\n");
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].id.as_deref(), Some("s1:0"));
        assert_eq!(events[0].data, "{\"a\":1}");
        assert_eq!(events[1].event.as_deref(), Some("endpoint"));
        assert_eq!(events[1].data, "/messages?x=1");
        assert_eq!(p.pending_bytes(), 0);
    }

    #[test]
    fn priming_event_and_retry() {
        let mut p = SseParser::new();
        let events = p.push(b"id: a:1\nretry: 3000\ndata:\n\n");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].data, "");
        assert_eq!(events[0].retry, Some(3000));
    }

    #[test]
    fn multi_line_data_is_joined() {
        let mut p = SseParser::new();
        let events = p.push(b"data: a\ndata: b\n\n");
        assert_eq!(events[0].data, "a\nb");
    }
}

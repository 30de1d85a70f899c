//! An incremental `text/event-stream` parser for the lean HTTP reader: bytes go in as they
//! arrive, each event's data comes out as soon as the blank line ending it has arrived.

/// The HTML standard's event-stream parsing, reduced to what MCP uses: `data` lines joined
/// with `\n`, one space after the colon dropped, comments and other fields (`id`, `event`,
/// `retry`) skipped, an event with no data not dispatched; and, beyond the standard, an
/// event whose data is empty is skipped too (MCP's priming event, not a message). Lines may
/// end in `\n` or `\r\n`; a bare `\r` panics (no server here sends one).
#[derive(Default)]
pub struct Events {
    /// The start of a line whose end has not arrived yet.
    partial: Vec<u8>,
    /// The data of the event being read.
    data: Vec<u8>,
}

impl Events {
    /// Feeds bytes; hands the data of each event they complete to `each`.
    pub fn feed(&mut self, bytes: &[u8], each: &mut impl FnMut(&[u8])) {
        let mut rest = bytes;
        while let Some(end) = memchr::memchr(b'\n', rest) {
            if self.partial.is_empty() {
                line(&rest[..end], &mut self.data, each);
            } else {
                self.partial.extend_from_slice(&rest[..end]);
                line(&self.partial, &mut self.data, each);
                self.partial.clear();
            }
            rest = &rest[end + 1..];
        }
        self.partial.extend_from_slice(rest);
    }

    /// Drops an unfinished event (at the end of a body), as the standard does.
    pub fn reset(&mut self) {
        self.partial.clear();
        self.data.clear();
    }
}

/// One line, without its `\n`.
fn line(mut line: &[u8], data: &mut Vec<u8>, each: &mut impl FnMut(&[u8])) {
    if let [before @ .., b'\r'] = line {
        line = before;
    }
    assert!(!line.contains(&b'\r'), "a bare CR in an event stream");
    if line.is_empty() {
        if let Some(message) = data.strip_suffix(b"\n")
            && !message.is_empty()
        {
            each(message);
        }
        data.clear();
        return;
    }
    let (field, value) = match memchr::memchr(b':', line) {
        Some(at) => (&line[..at], &line[at + 1..]),
        None => (line, &[][..]),
    };
    if field == b"data" {
        data.extend_from_slice(value.strip_prefix(b" ").unwrap_or(value));
        data.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_come_out_whole_whatever_the_pieces() {
        let stream = "id: 1\n\nid: 2\ndata:\n\ndata: {\"b\":\ndata: 2}\r\n\r\n: c\nevent: message\ndata:3\n\ndata: cut";
        for step in 1..stream.len() {
            let mut events = Events::default();
            let mut got = Vec::new();
            for piece in stream.as_bytes().chunks(step) {
                events.feed(piece, &mut |m| {
                    got.push(String::from_utf8_lossy(m).into_owned())
                });
            }
            assert_eq!(
                got,
                ["{\"b\":\n2}", "3"],
                "no message from an event with only an id, a priming event or an unfinished one"
            );
            events.reset();
            events.feed(b"\n", &mut |_| panic!("the unfinished event was dropped"));
        }
    }
}

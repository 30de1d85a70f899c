//! Turning a growing byte stream (a log file, a pipe) into complete lines, and keeping the last
//! lines of a log in bounded memory.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// A line longer than this is cut into pieces of this size, so memory stays bounded.
pub const MAX_LINE: usize = 64 * 1024;

/// Splits bytes into lines; a partial last line is held back until its newline arrives.
#[derive(Debug, Default)]
pub struct LineSplitter {
    partial: Vec<u8>,
}

impl LineSplitter {
    /// A splitter with nothing held back.
    pub fn new() -> LineSplitter {
        LineSplitter::default()
    }

    /// Adds `bytes`; every line they complete is passed to `emit` (without `\n` or `\r\n`).
    pub fn push(&mut self, mut bytes: &[u8], emit: &mut impl FnMut(String)) {
        while let Some(at) = bytes.iter().position(|&b| b == b'\n') {
            self.partial.extend_from_slice(&bytes[..at]);
            bytes = &bytes[at + 1..];
            let line = std::mem::take(&mut self.partial);
            emit(decode(&line));
        }
        self.partial.extend_from_slice(bytes);
        while self.partial.len() >= MAX_LINE {
            let rest = self.partial.split_off(MAX_LINE);
            let line = std::mem::replace(&mut self.partial, rest);
            emit(decode(&line));
        }
    }

    /// The bytes held back (a line whose newline has not arrived yet).
    pub fn pending(&self) -> &[u8] {
        &self.partial
    }

    /// The stream ended: the held-back partial line, if any, is a line after all.
    pub fn finish(&mut self) -> Option<String> {
        if self.partial.is_empty() {
            None
        } else {
            let line = std::mem::take(&mut self.partial);
            Some(decode(&line))
        }
    }
}

fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    String::from_utf8_lossy(bytes).into_owned()
}

/// The last `capacity` lines seen.
#[derive(Debug)]
pub struct LogTail {
    lines: VecDeque<String>,
    capacity: usize,
}

impl LogTail {
    /// A tail that keeps at most `capacity` lines.
    pub fn new(capacity: usize) -> LogTail {
        LogTail {
            lines: VecDeque::with_capacity(capacity.min(1024)),
            capacity,
        }
    }

    /// Adds a line, dropping the oldest if full.
    pub fn push(&mut self, line: &str) {
        if self.capacity == 0 {
            return;
        }
        if self.lines.len() == self.capacity {
            self.lines.pop_front();
        }
        self.lines.push_back(line.to_owned());
    }

    /// The lines kept, oldest first.
    pub fn into_lines(self) -> Vec<String> {
        self.lines.into()
    }
}

/// Reads a file as it grows, from where it last stopped.
#[derive(Debug)]
pub struct FileTail {
    path: PathBuf,
    file: Option<tokio::fs::File>,
    offset: u64,
    splitter: LineSplitter,
    buf: Vec<u8>,
}

impl FileTail {
    /// Follows `path` (which may not exist yet).
    pub fn new(path: &Path) -> FileTail {
        FileTail {
            path: path.to_path_buf(),
            file: None,
            offset: 0,
            splitter: LineSplitter::new(),
            buf: vec![0; 64 * 1024],
        }
    }

    /// Whether the file has been opened (it existed at some read).
    pub fn exists(&self) -> bool {
        self.file.is_some()
    }

    /// Reads at most one buffer of what was appended; its complete lines go to `emit`.
    /// Returns how many bytes were read (0 at the current end of the file).
    pub async fn read_some(&mut self, emit: &mut impl FnMut(String)) -> std::io::Result<usize> {
        if self.file.is_none() {
            match tokio::fs::File::open(&self.path).await {
                Ok(file) => self.file = Some(file),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
                Err(e) => return Err(e),
            }
        }
        let Some(file) = self.file.as_mut() else {
            return Ok(0);
        };
        let n = file.read(&mut self.buf).await?;
        self.offset += n as u64;
        self.splitter.push(&self.buf[..n], emit);
        Ok(n)
    }

    /// Opens the file again where reading stopped: a filesystem shared over the network shows
    /// what another machine appended only to a fresh open (close-to-open consistency).
    pub async fn reopen(&mut self) {
        if self.file.is_none() {
            return;
        }
        if let Ok(mut file) = tokio::fs::File::open(&self.path).await
            && file
                .seek(std::io::SeekFrom::Start(self.offset))
                .await
                .is_ok()
        {
            self.file = Some(file);
        }
    }

    /// The file is complete: the partial last line, if any.
    pub fn finish(&mut self) -> Option<String> {
        self.splitter.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_lines_are_held_back() {
        let mut s = LineSplitter::new();
        let mut got = Vec::new();
        s.push(b"one\ntw", &mut |l| got.push(l));
        assert_eq!(got, ["one"]);
        assert_eq!(s.pending(), b"tw");
        s.push(b"o\r\nthree", &mut |l| got.push(l));
        assert_eq!(got, ["one", "two"]);
        s.push(b"\n\n", &mut |l| got.push(l));
        assert_eq!(got, ["one", "two", "three", ""]);
        assert_eq!(s.finish(), None);
        s.push(b"last", &mut |l| got.push(l));
        assert_eq!(s.finish().as_deref(), Some("last"));
    }

    #[test]
    fn utf8_split_across_reads_survives() {
        let text = "caf\u{e9} \u{2713}\n".as_bytes();
        let mut s = LineSplitter::new();
        let mut got = Vec::new();
        for byte in text {
            s.push(std::slice::from_ref(byte), &mut |l| got.push(l));
        }
        assert_eq!(got, ["caf\u{e9} \u{2713}"]);
    }

    #[test]
    fn huge_lines_are_cut() {
        let mut s = LineSplitter::new();
        let mut got = Vec::new();
        s.push(&vec![b'x'; MAX_LINE * 2 + 5], &mut |l| got.push(l.len()));
        assert_eq!(got, [MAX_LINE, MAX_LINE]);
        assert_eq!(s.pending().len(), 5);
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        let mut t = LogTail::new(3);
        for i in 0..10 {
            t.push(&i.to_string());
        }
        assert_eq!(t.into_lines(), ["7", "8", "9"]);
    }
}

//! The lean clients behind the call-rate and latency cells: blocking sockets and pipes, one
//! OS thread per client, each request encoded once (only its id digits change), each answer
//! read by a minimal HTTP/1.1 reader or line splitter and checked with serde. At one client
//! a call is a round trip in which the generator and the server take turns, so whatever the
//! generator spends on a call lowers every server's rate alike and pulls their ratios toward
//! 1; these clients spend little beyond the syscalls themselves (most of their CPU per call
//! is the kernel's loopback path and the sleep and wake-up in `read`). They sleep in `read`
//! while the server works (no busy polling: the machine has 2 cores).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Instant;

use crate::http1::Reader;
use crate::procs::{BlockingStdio, Kind, spawn_stdio};
use crate::reply::Expect;
use crate::template::{Ids, Template};
use crate::usage::ThreadUse;
use crate::wire;

/// One keep-alive connection with its session (if the server keeps sessions), ready to call
/// `progress {steps: 0}`.
pub struct HttpClient {
    stream: TcpStream,
    reader: Reader,
    call: Template,
    ids: Ids,
    expect: Expect,
    host: String,
    session: Option<String>,
}

impl HttpClient {
    /// Connects (with `TCP_NODELAY`) as client number `client`; opens a session with
    /// `initialize` and `notifications/initialized` when `kind` keeps sessions, and calls
    /// the stateless way for [`Kind::OursStateless`].
    pub fn open(addr: SocketAddr, kind: Kind, client: usize) -> HttpClient {
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let mut reader = Reader::new();
        let host = addr.to_string();
        let stateless = kind == Kind::OursStateless;
        let mut session = None;
        if kind.has_sessions() {
            let init = wire::post(&host, None, false, &wire::initialize(0));
            stream.write_all(&init).expect("write");
            let mut ready = false;
            let head = reader.response(&mut stream, true, |m| {
                ready |= wire::contains(m, b"protocolVersion");
            });
            assert!(ready, "an initialize result");
            session = Some(head.session.expect("a session id"));
            let note = std::str::from_utf8(wire::INITIALIZED).expect("ASCII");
            let note = wire::post(&host, session.as_deref(), false, note);
            stream.write_all(&note).expect("write");
            let head = reader.response(&mut stream, false, |m| {
                panic!(
                    "an answer to a notification: {}",
                    String::from_utf8_lossy(m)
                )
            });
            assert_eq!(head.status, 202, "a notification is accepted");
        }
        let call = Template::new(|id| {
            let body = if stateless {
                wire::stateless_call(id, 0)
            } else {
                wire::call(id, 0, 0, false)
            };
            wire::post(&host, session.as_deref(), stateless, &body)
        });
        HttpClient {
            stream,
            reader,
            call,
            ids: Ids::of_client(client),
            expect: Expect::done(0, kind != Kind::Bare),
            host,
            session,
        }
    }

    /// Reads made so far on the connection.
    pub fn reads(&self) -> u64 {
        self.reader.reads()
    }

    /// One `tools/call`, its whole answer read and checked: exactly one message, the tool's
    /// result for this call's id.
    pub fn call(&mut self) {
        let id = self.ids.next_id();
        self.stream.write_all(self.call.with_id(id)).expect("write");
        let mut answers = 0;
        let expect = &self.expect;
        self.reader.response(&mut self.stream, false, |m| {
            expect.check(m, Some(id));
            answers += 1;
        });
        assert_eq!(answers, 1, "one answer per call");
    }

    /// Calls `progress {steps, delay_ms}` with a progress token and hands each progress
    /// notification to `progress`, with the time its read returned, as soon as it arrives;
    /// panics unless the call ends with the tool's result.
    pub fn stream(&mut self, steps: u64, delay_ms: u64, mut progress: impl FnMut(&[u8], u64)) {
        let id = self.ids.next_id();
        let body = wire::call(id, steps, delay_ms, true);
        let request = wire::post(&self.host, self.session.as_deref(), false, &body);
        self.stream.write_all(&request).expect("write");
        let expect = Expect::done(steps, true);
        let mut answers = 0;
        self.reader.stream(&mut self.stream, false, |m, at| {
            if wire::contains(m, b"notifications/progress") {
                progress(m, at);
            } else {
                expect.check(m, Some(id));
                answers += 1;
            }
        });
        assert_eq!(answers, 1, "one answer per call");
    }
}

/// A server on stdio (blocking pipes) after the `initialize` handshake.
pub struct StdioClient {
    /// The process and its pipes.
    pub server: BlockingStdio,
    buf: Vec<u8>,
    /// The unread bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    /// Ids of the session's calls (never one used twice, as MCP requires).
    ids: Ids,
}

impl StdioClient {
    /// Starts `kind` on stdio and performs the handshake.
    pub fn open(kind: Kind) -> StdioClient {
        let mut c = StdioClient {
            server: spawn_stdio(kind).into_blocking(),
            buf: vec![0; 64 * 1024],
            start: 0,
            end: 0,
            ids: Ids::of_client(0),
        };
        let mut init = wire::initialize(0);
        init.push('\n');
        c.send(init.as_bytes());
        let mut ready = false;
        while !ready {
            c.lines(|line, _| ready |= wire::contains(line, b"protocolVersion"));
        }
        let mut note = wire::INITIALIZED.to_vec();
        note.push(b'\n');
        c.send(&note);
        c
    }

    /// Writes bytes to the server's stdin.
    pub fn send(&mut self, bytes: &[u8]) {
        self.server.input.write_all(bytes).expect("write");
    }

    /// Reads once (blocking) and hands each complete line to `each`, with the time the read
    /// returned (`CLOCK_MONOTONIC` nanoseconds); returns how many lines there were.
    pub fn lines(&mut self, mut each: impl FnMut(&[u8], u64)) -> usize {
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        } else if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
        }
        if self.end == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        let n = self
            .server
            .output
            .read(&mut self.buf[self.end..])
            .expect("read");
        let at = sidebyside::now_ns();
        assert!(n > 0, "the server closed its stdout");
        // A line may end in the bytes read before; search only the new ones.
        let mut from = self.end;
        self.end += n;
        let mut count = 0;
        while let Some(newline) = memchr::memchr(b'\n', &self.buf[from..self.end]) {
            let line_end = from + newline;
            each(&self.buf[self.start..line_end], at);
            count += 1;
            self.start = line_end + 1;
            from = self.start;
        }
        count
    }
}

/// Calls `progress {steps: 0}` over stdio with `in_flight` calls outstanding at all times
/// until `until`, then waits for the last answers; every answer is checked against the ids
/// in flight. Returns the calls answered and each call's round trip in nanoseconds.
pub fn stdio_calls(c: &mut StdioClient, in_flight: usize, until: Instant) -> (u64, Vec<u32>) {
    let mut call = Template::new(|id| {
        let mut line = wire::call(id, 0, 0, false).into_bytes();
        line.push(b'\n');
        line
    });
    let expect = Expect::done(0, true);
    let mut outstanding: Vec<(u64, Instant)> = Vec::with_capacity(in_flight);
    let mut out = Vec::new();
    let mut round_trips = Vec::with_capacity(1 << 16);
    let mut send = |n: usize, outstanding: &mut Vec<(u64, Instant)>, c: &mut StdioClient| {
        out.clear();
        let now = Instant::now();
        for _ in 0..n {
            let id = c.ids.next_id();
            out.extend_from_slice(call.with_id(id));
            outstanding.push((id, now));
        }
        c.send(&out);
    };
    send(in_flight, &mut outstanding, c);
    let mut done = 0u64;
    while !outstanding.is_empty() {
        let answered = c.lines(|line, _| {
            let id = expect.check(line, None);
            let at = outstanding
                .iter()
                .position(|(i, _)| *i == id)
                .unwrap_or_else(|| panic!("an answer to no call in flight: {id}"));
            let (_, sent) = outstanding.swap_remove(at);
            round_trips.push(nanos(sent.elapsed()));
        });
        done += answered as u64;
        if Instant::now() < until && answered > 0 {
            send(answered, &mut outstanding, c);
        }
    }
    (done, round_trips)
}

/// What one client thread did in a cell.
pub struct ClientRun {
    /// Calls made.
    pub calls: u64,
    /// Each call's round trip in nanoseconds.
    pub round_trips: Vec<u32>,
    /// Reads made.
    pub reads: u64,
    /// The thread's scheduler counts over the calls.
    pub thread: ThreadUse,
}

/// Calls until `until` on one connection.
pub fn http_calls(c: &mut HttpClient, until: Instant) -> ClientRun {
    let mut round_trips = Vec::with_capacity(1 << 16);
    let (reads0, thread0) = (c.reads(), ThreadUse::now());
    let mut now = Instant::now();
    while now < until {
        c.call();
        let then = Instant::now();
        round_trips.push(nanos(then - now));
        now = then;
    }
    let thread = ThreadUse::now().since(thread0);
    ClientRun {
        calls: round_trips.len() as u64,
        round_trips,
        reads: c.reads() - reads0,
        thread,
    }
}

fn nanos(d: std::time::Duration) -> u32 {
    u32::try_from(d.as_nanos()).unwrap_or(u32::MAX)
}

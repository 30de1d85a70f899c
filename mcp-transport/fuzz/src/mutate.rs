//! Mutations of valid inputs: byte flips and swaps, deletions, duplications, splices from other
//! inputs, and insertions of tokens that matter to the parsers under test (JSON punctuation and
//! edge values, line ends, SSE fields, HTTP headers).

use crate::rng::Rng;

/// The largest input a mutation produces.
pub const MAX_INPUT: usize = 64 * 1024;

/// Tokens worth inserting: each means something to one of the parsers.
const TOKENS: &[&[u8]] = &[
    b"\"",
    b"\\",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"null",
    b"true",
    b"-1",
    b"0",
    b"1e308",
    b"1e999",
    b"-0",
    b"9223372036854775808",
    b"18446744073709551616",
    b"0.5",
    b"\\u0000",
    b"\\ud800",
    b"\xff",
    b"\xc3",
    b"\"jsonrpc\":\"2.0\"",
    b"\"id\":",
    b"\"method\":",
    b"\"params\":",
    b"\"result\":",
    b"\"error\":",
    b"\"_meta\":{}",
    b"\"progressToken\":",
    b"\"protocolVersion\":\"2025-03-26\"",
    b"\"tools/call\"",
    b"\"initialize\"",
    b"\"notifications/cancelled\"",
    b"\n",
    b"\r\n",
    b"\r",
    b"\r\n\r\n",
    b"\n\n",
    b"data:",
    b"data: ",
    b"id: ",
    b"event: ",
    b"retry: ",
    b": comment",
    b"Content-Length: 0\r\n",
    b"Content-Length: 99999\r\n",
    b"Transfer-Encoding: chunked\r\n",
    b"Host: evil.example\r\n",
    b"Origin: null\r\n",
    b"Mcp-Session-Id: x\r\n",
    b"Last-Event-ID: 1:0\r\n",
    b"Last-Event-ID: 18446744073709551615:1\r\n",
    b"MCP-Protocol-Version: 2099-01-01\r\n",
    b"Accept: */*\r\n",
    b"Content-Type: text/plain\r\n",
    b"GET ",
    b"DELETE ",
    b"HTTP/1.0",
    b"/sse",
    b"/messages?sessionId=",
    b" ",
    b"\t",
    b"\0",
];

/// `input` mutated one to four times; `others` feed splices.
pub fn mutate(rng: &mut Rng, input: &[u8], others: &[Vec<u8>]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(9) {
            0 if !out.is_empty() => {
                let i = at.min(out.len() - 1);
                out[i] ^= 1 << rng.below(8);
            }
            1 if !out.is_empty() => {
                let i = at.min(out.len() - 1);
                out[i] = rng.below(256) as u8;
            }
            2 | 3 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                out.splice(at..at, token.iter().copied());
            }
            4 if !out.is_empty() => {
                let end = (at + 1 + rng.below(16)).min(out.len());
                out.drain(at.min(end)..end);
            }
            5 if !out.is_empty() => {
                let start = rng.below(out.len());
                let end = (start + 1 + rng.below(64)).min(out.len());
                let piece = out[start..end].to_vec();
                out.splice(at..at, piece);
            }
            6 if !others.is_empty() => {
                let other = &others[rng.below(others.len())];
                if !other.is_empty() {
                    let start = rng.below(other.len());
                    let end = (start + 1 + rng.below(256)).min(other.len());
                    out.splice(at..at, other[start..end].iter().copied());
                }
            }
            7 => out.truncate(at),
            _ => {
                // A run of one byte: long strings, deep nesting.
                let byte = [b'[', b'{', b'a', b'9', b' '][rng.below(5)];
                let n = 1 + rng.below(512);
                out.splice(at..at, std::iter::repeat_n(byte, n));
            }
        }
        out.truncate(MAX_INPUT);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_are_deterministic_and_bounded() {
        let input = br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
        let run = |seed| {
            let mut rng = Rng::new(seed);
            (0..200)
                .map(|_| mutate(&mut rng, input, &[input.to_vec()]))
                .collect::<Vec<_>>()
        };
        let (a, b) = (run(3), run(3));
        assert_eq!(a, b);
        assert!(a.iter().all(|m| m.len() <= MAX_INPUT));
        assert!(a.iter().any(|m| m.as_slice() != input), "it mutates");
    }
}

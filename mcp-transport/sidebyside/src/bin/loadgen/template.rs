//! A request encoded once, whose id digits are rewritten in place for each call: the lean
//! clients send the same bytes the old per-call `format!` made, without making them.

/// Every templated id has this many digits, so that a request's length (and an HTTP
/// request's `Content-Length`) never changes.
const WIDTH: usize = 12;
/// The first id of client 0; client `c` starts at `FIRST + c * PER_CLIENT`.
const FIRST: u64 = 100_000_000_000;
/// Ids each client may use before its range runs into the next client's.
const PER_CLIENT: u64 = 1_000_000_000;

/// Request ids of one client: 12 digits, unique across clients, counting up.
pub struct Ids {
    next: u64,
    end: u64,
}

impl Ids {
    /// The ids of client number `client` (below 800, so every id keeps 12 digits).
    pub fn of_client(client: usize) -> Ids {
        let first = FIRST + client as u64 * PER_CLIENT;
        let end = first + PER_CLIENT;
        assert!(end <= 10u64.pow(WIDTH as u32), "too many clients");
        Ids { next: first, end }
    }

    /// The next id; panics when the client's range is used up.
    pub fn next_id(&mut self) -> u64 {
        assert!(self.next < self.end, "request ids used up");
        self.next += 1;
        self.next - 1
    }
}

/// A message (an HTTP request with its body, or a stdio line) holding one 12-digit id.
pub struct Template {
    bytes: Vec<u8>,
    /// Where the id's digits start in `bytes`.
    id_at: usize,
}

impl Template {
    /// Encodes `make(id)` once; `make` must put `"id":<id>` in the message exactly once
    /// (checked).
    pub fn new(make: impl FnOnce(u64) -> Vec<u8>) -> Template {
        let first = FIRST;
        let bytes = make(first);
        let key = format!("\"id\":{first}");
        let mut found = memchr::memmem::find_iter(&bytes, key.as_bytes());
        let at = found.next().expect("the id in the message");
        assert!(found.next().is_none(), "the id appears once");
        Template {
            id_at: at + key.len() - WIDTH,
            bytes,
        }
    }

    /// The message with `id` written in; `id` must have 12 digits (see [`Ids`]).
    pub fn with_id(&mut self, id: u64) -> &[u8] {
        assert!(
            (FIRST..10u64.pow(WIDTH as u32)).contains(&id),
            "a 12-digit id"
        );
        let digits = &mut self.bytes[self.id_at..self.id_at + WIDTH];
        let mut rest = id;
        for d in digits.iter_mut().rev() {
            *d = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        &self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_id_digits_change() {
        let mut t = Template::new(|id| format!("head {{\"id\":{id},\"x\":1}}\n").into_bytes());
        let mut ids = Ids::of_client(3);
        let a = ids.next_id();
        assert_eq!(a, 103_000_000_000);
        assert_eq!(t.with_id(a), b"head {\"id\":103000000000,\"x\":1}\n");
        assert_eq!(
            t.with_id(ids.next_id()),
            b"head {\"id\":103000000001,\"x\":1}\n"
        );
    }
}

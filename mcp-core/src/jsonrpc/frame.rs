//! The frame of a response around its result's text: `{"jsonrpc":"2.0","id":ID,"result":`,
//! the result, `}`. Written directly (serde would escape each member name every time), for a
//! result already encoded as text.

/// What comes before the id.
pub(super) const HEAD: &[u8] = br#"{"jsonrpc":"2.0","id":"#;
/// What comes between the id and the result.
pub(super) const RESULT: &[u8] = br#","result":"#;
/// The longest head with a numeric id: the id of `i64::MIN` has 20 characters.
#[cfg(test)]
pub(super) const HEAD_MAX: usize = HEAD.len() + 20 + RESULT.len();

/// Writes the head of the response to request `id`, up to its result, to `out`.
pub(super) fn write_head(out: &mut Vec<u8>, id: i64) {
    let mut digits = [0; 20];
    out.extend_from_slice(HEAD);
    out.extend_from_slice(decimal(id, &mut digits));
    out.extend_from_slice(RESULT);
}

/// Whether `head` is the head [`write_head`] writes for request `id`.
pub(super) fn is_head(head: &[u8], id: i64) -> bool {
    let mut digits = [0; 20];
    let digits = decimal(id, &mut digits);
    head.len() == HEAD.len() + digits.len() + RESULT.len()
        && head.starts_with(HEAD)
        && head.ends_with(RESULT)
        && &head[HEAD.len()..HEAD.len() + digits.len()] == digits
}

/// `n` in decimal, as JSON writes an integer, in the end of `buf`.
fn decimal(n: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    let mut rest = n.unsigned_abs();
    loop {
        at -= 1;
        buf[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if n < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    &buf[at..]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ids are written as serde_json writes them, and recognized only as themselves.
    #[test]
    fn heads_hold_the_id_as_json_writes_it() {
        for id in [
            0,
            7,
            9,
            10,
            99,
            100,
            -1,
            -42,
            123_456_789_012,
            i64::MAX,
            i64::MIN,
        ] {
            let mut out = Vec::new();
            write_head(&mut out, id);
            let expected = format!(
                r#"{{"jsonrpc":"2.0","id":{},"result":"#,
                serde_json::json!(id)
            );
            assert_eq!(String::from_utf8(out.clone()).unwrap(), expected);
            assert!(out.len() <= HEAD_MAX);
            assert!(is_head(&out, id));
            assert!(!is_head(&out, id.wrapping_add(1)));
            assert!(!is_head(&out[1..], id));
            assert!(!is_head(&out[..out.len() - 1], id));
        }
    }
}

//! The frame of a response around its result's text: `{"jsonrpc":"2.0","id":ID,"result":`,
//! the result, `}`. Written directly (serde would escape each member name every time), for a
//! result already encoded as text.

/// What comes before the id, as text.
pub(super) const HEAD_TEXT: &str = r#"{"jsonrpc":"2.0","id":"#;
/// What comes between the id and the result, as text.
pub(super) const RESULT_TEXT: &str = r#","result":"#;
/// What comes before the id.
pub(super) const HEAD: &[u8] = HEAD_TEXT.as_bytes();
/// What comes between the id and the result.
pub(super) const RESULT: &[u8] = RESULT_TEXT.as_bytes();
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

/// The length of the head [`write_head`] writes for request `id`.
pub(super) fn head_len(id: i64) -> usize {
    let mut digits = [0; 20];
    HEAD.len() + decimal(id, &mut digits).len() + RESULT.len()
}

/// Two decimal digits for each value below 100.
const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// `n` in decimal, as JSON writes an integer, in the end of `buf`: two digits at a time.
pub(super) fn decimal(n: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    let mut rest = n.unsigned_abs();
    while rest >= 100 {
        let pair = (rest % 100) as usize * 2;
        rest /= 100;
        at -= 2;
        buf[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if rest >= 10 {
        let pair = rest as usize * 2;
        at -= 2;
        buf[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        at -= 1;
        buf[at] = b'0' + rest as u8;
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

    /// Ids are written as serde_json writes them.
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
            101,
            1_000,
            9_999,
            10_000,
            -100,
            123_456_789_012,
            1_000_000_000_000_000_000,
            -999_999_999_999_999_999,
            i64::MAX,
            i64::MIN,
            i64::MIN + 1,
        ] {
            let mut out = Vec::new();
            write_head(&mut out, id);
            let expected = format!(
                r#"{{"jsonrpc":"2.0","id":{},"result":"#,
                serde_json::json!(id)
            );
            assert_eq!(String::from_utf8(out.clone()).unwrap(), expected);
            assert!(out.len() <= HEAD_MAX);
            assert_eq!(head_len(id), out.len());
        }
    }
}

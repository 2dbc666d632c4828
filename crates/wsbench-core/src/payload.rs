//! Parsers for what a user types into a composer: hex and base64 binary, close codes.
//! Errors say exactly where the input is wrong.

use base64::Engine as _;
use bytes::Bytes;

use crate::error::{Error, Result};

/// Parse hex bytes. Accepts `0x` prefixes and whitespace, `:`, `-` or `,` between
/// bytes: `"de ad be ef"`, `"DEADBEEF"`, `"0xde,0xad"`, `"de:ad"`.
pub fn parse_hex(input: &str) -> Result<Bytes> {
    let bad = |reason: String| Error::InvalidPayload { format: "hex", reason };
    let mut out = Vec::with_capacity(input.len() / 2);
    let mut high: Option<(usize, u8)> = None;
    let chars: Vec<(usize, char)> = input.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (pos, c) = chars[i];
        if c == '0' && high.is_none() && matches!(chars.get(i + 1), Some((_, 'x' | 'X'))) {
            i += 2;
            continue;
        }
        if c.is_whitespace() || matches!(c, ':' | '-' | ',') {
            if let Some((p, _)) = high {
                return Err(bad(format!(
                    "odd digit at position {} (a byte needs two hex digits)",
                    p + 1
                )));
            }
            i += 1;
            continue;
        }
        let Some(v) = c.to_digit(16) else {
            return Err(bad(format!("{c:?} at position {} is not a hex digit", pos + 1)));
        };
        match high.take() {
            None => high = Some((pos, v as u8)),
            Some((_, h)) => out.push(h << 4 | v as u8),
        }
        i += 1;
    }
    if let Some((p, _)) = high {
        return Err(bad(format!(
            "odd number of hex digits: the digit at position {} has no pair",
            p + 1
        )));
    }
    Ok(Bytes::from(out))
}

/// Parse base64 (standard or URL-safe alphabet, padding optional, whitespace ignored).
pub fn parse_base64(input: &str) -> Result<Bytes> {
    use base64::engine::{general_purpose::GeneralPurpose, DecodePaddingMode, GeneralPurposeConfig};
    let cleaned: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    let cfg = GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let url_safe = cleaned.contains(['-', '_']);
    let engine = if url_safe {
        GeneralPurpose::new(&base64::alphabet::URL_SAFE, cfg)
    } else {
        GeneralPurpose::new(&base64::alphabet::STANDARD, cfg)
    };
    engine.decode(cleaned.as_bytes()).map(Bytes::from).map_err(|e| {
        let reason = match e {
            base64::DecodeError::InvalidByte(at, b) => {
                format!("{:?} at position {} is not a base64 character", b as char, at + 1)
            }
            base64::DecodeError::InvalidLength(n) => {
                format!("{n} characters cannot be base64 (a length of 4k+1 is impossible)")
            }
            base64::DecodeError::InvalidLastSymbol(at, b) => {
                format!(
                    "last symbol {:?} at position {} has bits set past the data",
                    b as char,
                    at + 1
                )
            }
            base64::DecodeError::InvalidPadding => "padding is misplaced".to_string(),
        };
        Error::InvalidPayload {
            format: "base64",
            reason,
        }
    })
}

/// Check a close code and reason as RFC 6455 section 7.4 allows a client to send.
pub fn validate_close(code: u16, reason: &str) -> Result<()> {
    let ok = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
    if !ok {
        return Err(Error::InvalidClose {
            code,
            reason: format!(
                "code {code} cannot be sent (use 1000-1003, 1007-1014 or 3000-4999; 1005, 1006 and 1015 are reserved)"
            ),
        });
    }
    if reason.len() > 123 {
        return Err(Error::InvalidClose {
            code,
            reason: format!(
                "reason is {} bytes; a close reason holds at most 123 bytes of UTF-8",
                reason.len()
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_accepts_common_spellings() {
        for s in [
            "deadbeef",
            "DE AD BE EF",
            "0xde 0xad 0xbe 0xef",
            "de:ad:be:ef",
            "de-ad,be ef\n",
        ] {
            assert_eq!(&parse_hex(s).unwrap()[..], &[0xde, 0xad, 0xbe, 0xef], "{s}");
        }
        assert!(parse_hex("").unwrap().is_empty());
    }

    #[test]
    fn hex_errors_point_at_the_problem() {
        let e = parse_hex("de ag").unwrap_err().to_string();
        assert!(e.contains("'g' at position 5 is not a hex digit"), "{e}");
        let e = parse_hex("abc").unwrap_err().to_string();
        assert!(
            e.contains("odd number of hex digits") && e.contains("position 3"),
            "{e}"
        );
        let e = parse_hex("a bc").unwrap_err().to_string();
        assert!(e.contains("position 1"), "{e}");
    }

    #[test]
    fn base64_standard_url_safe_and_unpadded() {
        assert_eq!(&parse_base64("3q2+7w==").unwrap()[..], &[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(&parse_base64("3q2-7w").unwrap()[..], &[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(&parse_base64("aGVs\nbG8=").unwrap()[..], b"hello");
        let e = parse_base64("aGV$bG8=").unwrap_err().to_string();
        assert!(e.contains("'$' at position 4"), "{e}");
        let e = parse_base64("aGVsb").unwrap_err().to_string();
        assert!(e.contains("5 characters"), "{e}");
    }

    #[test]
    fn close_codes_and_reasons() {
        for ok in [1000, 1001, 1003, 1007, 1011, 3000, 4001, 4999] {
            validate_close(ok, "fine").unwrap();
        }
        for bad in [0, 999, 1004, 1005, 1006, 1015, 2000, 5000] {
            assert!(validate_close(bad, "").is_err(), "{bad}");
        }
        validate_close(1000, &"a".repeat(123)).unwrap();
        assert!(validate_close(1000, &"é".repeat(62))
            .unwrap_err()
            .to_string()
            .contains("124 bytes"));
    }
}

//! The permessage-deflate offer and the check of the server's answer (RFC 7692 §5, §7).

use crate::config::Compression;
use crate::handshake::DeflateParams;

const NAME: &str = "permessage-deflate";

/// The `Sec-WebSocket-Extensions` value we send for `c`: the offer the settings
/// describe, then (unless it already has it) the same with `client_no_context_takeover`,
/// a fallback for servers that only compress when the client may reset its context
/// (Autobahn and Crossbar do: RFC 7692 lets a client make several offers, §5).
pub(crate) fn offer(c: &Compression) -> String {
    let first = one_offer(c);
    if c.client_no_context_takeover {
        return first;
    }
    let fallback = one_offer(&Compression {
        client_no_context_takeover: true,
        ..*c
    });
    format!("{first}, {fallback}")
}

fn one_offer(c: &Compression) -> String {
    let mut s = String::from(NAME);
    if c.client_no_context_takeover {
        s.push_str("; client_no_context_takeover");
    }
    if c.server_no_context_takeover {
        s.push_str("; server_no_context_takeover");
    }
    match c.client_max_window_bits {
        Some(n) => s.push_str(&format!("; client_max_window_bits={n}")),
        // We can compress with any window the server asks for.
        None => s.push_str("; client_max_window_bits"),
    }
    if let Some(n) = c.server_max_window_bits {
        s.push_str(&format!("; server_max_window_bits={n}"));
    }
    s
}

/// Check the server's `Sec-WebSocket-Extensions` answer (every such header, in order)
/// against what we offered; the agreed parameters, None when it declined, or why the
/// answer is invalid (the client must then fail the connection).
pub(crate) fn negotiate(offered: Option<&Compression>, answers: &[String]) -> Result<Option<DeflateParams>, String> {
    let elements: Vec<&str> = answers
        .iter()
        .flat_map(|a| a.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    let mut agreed = None;
    for element in elements {
        let mut parts = element.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let Some(offer) = offered.filter(|_| name.eq_ignore_ascii_case(NAME)) else {
            return Err(format!(
                "the server accepted the extension \"{name}\", which was not offered (RFC 6455 §9.1)"
            ));
        };
        if agreed.is_some() {
            return Err("the server accepted permessage-deflate twice (RFC 7692 §5)".into());
        }
        agreed =
            Some(params(offer, parts).map_err(|e| format!("the server's permessage-deflate answer is invalid: {e}"))?);
    }
    Ok(agreed)
}

fn params<'a>(offer: &Compression, parts: impl Iterator<Item = &'a str>) -> Result<DeflateParams, String> {
    let mut p = DeflateParams::default();
    let mut seen: Vec<String> = Vec::new();
    for part in parts.filter(|p| !p.is_empty()) {
        let (key, value) = match part.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v.trim().trim_matches('"'))),
            None => (part.to_ascii_lowercase(), None),
        };
        if seen.contains(&key) {
            return Err(format!("the parameter {key} appears twice (RFC 7692 §7)"));
        }
        seen.push(key.clone());
        match (key.as_str(), value) {
            ("server_no_context_takeover", None) => p.server_no_context_takeover = true,
            ("client_no_context_takeover", None) => p.client_no_context_takeover = true,
            ("server_no_context_takeover" | "client_no_context_takeover", Some(v)) => {
                return Err(format!(
                    "{key} takes no value, the server sent \"{v}\" (RFC 7692 §7.1.1)"
                ))
            }
            ("server_max_window_bits", v) => {
                let n = window_bits(&key, v)?;
                if let Some(max) = offer.server_max_window_bits.filter(|&max| n > max) {
                    return Err(format!(
                        "{key}={n} is larger than the {max} offered (RFC 7692 §7.1.2.1)"
                    ));
                }
                p.server_max_window_bits = Some(n);
            }
            ("client_max_window_bits", v) => {
                let n = window_bits(&key, v)?;
                if let Some(max) = offer.client_max_window_bits.filter(|&max| n > max) {
                    return Err(format!(
                        "{key}={n} is larger than the {max} offered (RFC 7692 §7.1.2.2)"
                    ));
                }
                p.client_max_window_bits = Some(n);
            }
            _ => return Err(format!("unknown parameter \"{part}\" (RFC 7692 §7)")),
        }
    }
    if offer.server_no_context_takeover && !p.server_no_context_takeover {
        return Err("server_no_context_takeover was offered but the answer lacks it (RFC 7692 §7.1.1.1)".into());
    }
    if let (Some(max), None) = (offer.server_max_window_bits, p.server_max_window_bits) {
        return Err(format!(
            "server_max_window_bits={max} was offered but the answer lacks it (RFC 7692 §7.1.2.1)"
        ));
    }
    Ok(p)
}

/// A window-bits value: an integer from 8 to 15 (RFC 7692 §7.1.2), spelled without
/// a leading zero.
fn window_bits(key: &str, value: Option<&str>) -> Result<u8, String> {
    let Some(v) = value else {
        return Err(format!(
            "{key} needs a value from 8 to 15 in an answer (RFC 7692 §7.1.2)"
        ));
    };
    match v.parse::<u8>() {
        Ok(n @ 8..=15) if !v.starts_with('0') && !v.starts_with('+') => Ok(n),
        _ => Err(format!("{key}={v} is not a window size from 8 to 15 (RFC 7692 §7.1.2)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ans(s: &str) -> Vec<String> {
        vec![s.to_owned()]
    }

    #[test]
    fn offers_what_the_settings_say() {
        assert_eq!(
            offer(&Compression::default()),
            "permessage-deflate; client_max_window_bits, permessage-deflate; client_no_context_takeover; client_max_window_bits"
        );
        let c = Compression {
            client_max_window_bits: Some(10),
            server_max_window_bits: Some(12),
            client_no_context_takeover: true,
            server_no_context_takeover: true,
            ..Compression::default()
        };
        assert_eq!(
            offer(&c),
            "permessage-deflate; client_no_context_takeover; server_no_context_takeover; client_max_window_bits=10; server_max_window_bits=12"
        );
    }

    #[test]
    fn reads_valid_answers() {
        let c = Compression::default();
        assert_eq!(negotiate(Some(&c), &[]), Ok(None));
        assert_eq!(
            negotiate(Some(&c), &ans("permessage-deflate")),
            Ok(Some(DeflateParams::default()))
        );
        let p = negotiate(
            Some(&c),
            &ans("Permessage-Deflate; client_max_window_bits=\"9\"; server_max_window_bits=10; client_no_context_takeover; server_no_context_takeover"),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            p,
            DeflateParams {
                client_max_window_bits: Some(9),
                server_max_window_bits: Some(10),
                client_no_context_takeover: true,
                server_no_context_takeover: true,
            }
        );
    }

    #[test]
    fn refuses_invalid_answers_with_the_reason() {
        let c = Compression {
            client_max_window_bits: Some(10),
            ..Compression::default()
        };
        let cases = [
            (
                "x-webkit-deflate-frame",
                "\"x-webkit-deflate-frame\", which was not offered",
            ),
            ("permessage-deflate, permessage-deflate", "twice"),
            ("permessage-deflate; foo=1", "unknown parameter \"foo=1\""),
            (
                "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
                "appears twice",
            ),
            ("permessage-deflate; client_max_window_bits", "needs a value"),
            ("permessage-deflate; client_max_window_bits=16", "not a window size"),
            ("permessage-deflate; server_max_window_bits=7", "not a window size"),
            ("permessage-deflate; server_max_window_bits=09", "not a window size"),
            (
                "permessage-deflate; client_max_window_bits=12",
                "larger than the 10 offered",
            ),
            ("permessage-deflate; client_no_context_takeover=1", "takes no value"),
        ];
        for (answer, why) in cases {
            let e = negotiate(Some(&c), &ans(answer)).unwrap_err();
            assert!(e.contains(why), "{answer}: {e}");
        }
        let e = negotiate(None, &ans("permessage-deflate")).unwrap_err();
        assert!(e.contains("not offered"), "{e}");
        let strict = Compression {
            server_no_context_takeover: true,
            server_max_window_bits: Some(10),
            ..Compression::default()
        };
        let e = negotiate(Some(&strict), &ans("permessage-deflate; server_max_window_bits=10")).unwrap_err();
        assert!(e.contains("server_no_context_takeover was offered"), "{e}");
        let e = negotiate(Some(&strict), &ans("permessage-deflate; server_no_context_takeover")).unwrap_err();
        assert!(e.contains("server_max_window_bits=10 was offered"), "{e}");
    }
}

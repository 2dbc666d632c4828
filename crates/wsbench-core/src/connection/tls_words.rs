//! TLS failures worded for a person: what is wrong with the certificate (dates and
//! names included), what the server refused, and what to change.

use std::io;

use rustls::{AlertDescription as A, CertificateError as C};

use super::certs::date;
use super::tls::TlsClient;
use crate::handshake::CertInfo;

const TRUST_HINT: &str = "give the certificate (or its CA) as the CA file (--ca), or accept invalid certificates";
const PLAIN_PORT_HINT: &str = "is this a plain ws:// port? then use ws:// instead of wss://";
const CLIENT_CERT_HINT: &str = "set a client certificate and its key in the connection's TLS settings";

/// The reason behind an I/O error from a TLS stream.
pub(crate) fn reason(e: &io::Error, chain: &[CertInfo], client: &TlsClient) -> String {
    match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        Some(err) => rustls_reason(err, chain, client),
        None if e.kind() == io::ErrorKind::UnexpectedEof => {
            format!("the server closed the connection during the TLS handshake ({PLAIN_PORT_HINT})")
        }
        None => e.to_string(),
    }
}

fn rustls_reason(e: &rustls::Error, chain: &[CertInfo], client: &TlsClient) -> String {
    use rustls::Error as E;
    match e {
        E::InvalidCertificate(c) => certificate(c, chain, client),
        E::AlertReceived(a) => alert(*a, client),
        E::InvalidMessage(_) => format!("the server did not answer with TLS ({PLAIN_PORT_HINT})"),
        E::PeerIncompatible(p) => format!(
            "the server and wsbench share no TLS version or cipher suite (wsbench speaks TLS 1.2 and 1.3): {p:?}"
        ),
        other => other.to_string(),
    }
}

/// "subject CN=x, issued by CN=y"
fn who(chain: &[CertInfo]) -> String {
    match chain.first() {
        Some(c) if c.self_signed => format!(" (subject {}, self-signed)", c.subject),
        Some(c) => format!(" (subject {}, issued by {})", c.subject, c.issuer),
        None => String::new(),
    }
}

fn certificate(c: &C, chain: &[CertInfo], client: &TlsClient) -> String {
    let leaf = chain.first();
    let id = who(chain);
    match c {
        C::UnknownIssuer if leaf.is_some_and(|l| l.self_signed) => format!(
            "the server's certificate is self-signed and not trusted{id}: {}",
            if client.has_ca_file {
                "the CA file holds a different certificate; give this one (check the SHA-256 fingerprint)"
            } else {
                TRUST_HINT
            }
        ),
        C::UnknownIssuer => format!(
            "the certificate is not signed by a trusted CA{id}: add its CA file (--ca), or accept invalid certificates"
        ),
        C::NotValidForNameContext { expected, presented } => {
            // Our own reading of the names ("DNS:a, IP:b"); webpki's if we have none.
            let names = match leaf {
                Some(l) if !l.sans.is_empty() => l.sans.join(", "),
                _ => presented.join(", "),
            };
            let names = if names.is_empty() {
                "no names".to_string()
            } else {
                names
            };
            format!(
                "the certificate is not valid for the host name {:?}: it holds {names}{id}",
                expected.to_str()
            )
        }
        C::NotValidForName => format!(
            "the certificate is not valid for this host name: it holds {}{id}",
            leaf.map(|l| l.sans.join(", ")).unwrap_or_default()
        ),
        C::ExpiredContext { not_after, .. } => format!(
            "the certificate expired on {}{id}",
            date(not_after.as_secs() as i64)
        ),
        C::Expired => format!(
            "the certificate expired on {}{id}",
            leaf.map(|l| l.not_after.as_str()).unwrap_or("an earlier date")
        ),
        C::NotValidYetContext { not_before, .. } => format!(
            "the certificate is not valid yet: only from {}{id} (check the clock)",
            date(not_before.as_secs() as i64)
        ),
        C::NotValidYet => format!(
            "the certificate is not valid yet: only from {}{id} (check the clock)",
            leaf.map(|l| l.not_before.as_str()).unwrap_or("a later date")
        ),
        C::BadSignature => format!("a certificate in the server's chain has a bad signature{id}"),
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
            format!("the certificate is not meant for a TLS server (its extended key usage){id}")
        }
        C::Other(o) if format!("{o:?}").contains("CaUsedAsEndEntity") => format!(
            "the server presents a CA certificate as its own{id} (a certificate made with `openssl req -x509` is one): {}",
            if client.has_ca_file {
                "the CA file holds a different certificate; give this one to pin it"
            } else {
                "give it as the CA file (--ca) to pin it, or accept invalid certificates"
            }
        ),
        other => format!("invalid certificate{id}: {other:?}"),
    }
}

fn alert(a: A, client: &TlsClient) -> String {
    let refused = |what: &str| {
        if client.has_client_cert {
            format!("the server refused the client certificate ({what})")
        } else {
            format!("the server requires a client certificate ({what}): {CLIENT_CERT_HINT}")
        }
    };
    match a {
        A::CertificateRequired => refused("certificate_required"),
        A::BadCertificate
        | A::UnknownCA
        | A::CertificateUnknown
        | A::UnsupportedCertificate
        | A::CertificateRevoked
        | A::CertificateExpired
        | A::AccessDenied => refused(&format!("alert {a:?}")),
        A::DecryptError if client.has_client_cert => refused("alert DecryptError"),
        A::ProtocolVersion => {
            "the server does not accept the TLS versions wsbench speaks (TLS 1.2 and 1.3): protocol_version alert"
                .to_string()
        }
        A::HandshakeFailure => {
            "the server ended the TLS handshake (handshake_failure): no TLS version or cipher suite in common, or it requires a client certificate"
                .to_string()
        }
        A::UnrecognisedName => "the server does not serve this host name (unrecognized_name alert)".to_string(),
        other => format!("the server sent the TLS alert {other:?}"),
    }
}

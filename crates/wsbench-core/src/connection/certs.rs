//! The server's certificates as a person reads them: subject, issuer, validity,
//! names and fingerprint (x509-parser for the fields, ring for SHA-256).

use rustls::pki_types::CertificateDer;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::handshake::CertInfo;

/// Seconds since the epoch as RFC 3339 (UTC); the number itself if out of range.
pub(super) fn date(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| secs.to_string())
}

/// `AB:CD:…` SHA-256 of the DER.
pub(super) fn fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    digest
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// What can be read from one certificate; a certificate x509-parser cannot read
/// still gets its fingerprint.
pub(super) fn describe(der: &CertificateDer<'_>) -> CertInfo {
    let sha256 = fingerprint(der.as_ref());
    let Ok((_, cert)) = X509Certificate::from_der(der.as_ref()) else {
        return CertInfo {
            subject: "(unreadable certificate)".into(),
            issuer: String::new(),
            not_before: String::new(),
            not_after: String::new(),
            sans: Vec::new(),
            sha256,
            is_ca: false,
            self_signed: false,
        };
    };
    let subject = cert.subject().to_string();
    let issuer = cert.issuer().to_string();
    // Same name, and its own key verifies its signature.
    let self_signed = subject == issuer && cert.verify_signature(None).is_ok();
    CertInfo {
        self_signed,
        subject,
        issuer,
        not_before: date(cert.validity().not_before.timestamp()),
        not_after: date(cert.validity().not_after.timestamp()),
        sans: sans(&cert),
        sha256,
        is_ca: cert.is_ca(),
    }
}

fn sans(cert: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(ext)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    ext.value
        .general_names
        .iter()
        .filter_map(|n| match n {
            GeneralName::DNSName(d) => Some(format!("DNS:{d}")),
            GeneralName::IPAddress(b) => ip(b).map(|a| format!("IP:{a}")),
            GeneralName::URI(u) => Some(format!("URI:{u}")),
            GeneralName::RFC822Name(e) => Some(format!("email:{e}")),
            _ => None,
        })
        .collect()
}

fn ip(b: &[u8]) -> Option<std::net::IpAddr> {
    match b.len() {
        4 => Some(<[u8; 4]>::try_from(b).ok()?.into()),
        16 => Some(<[u8; 16]>::try_from(b).ok()?.into()),
        _ => None,
    }
}

/// The validity period of `der` as seconds since the epoch, if it parses.
pub(super) fn validity(der: &CertificateDer<'_>) -> Option<(i64, i64)> {
    let (_, cert) = X509Certificate::from_der(der.as_ref()).ok()?;
    Some((
        cert.validity().not_before.timestamp(),
        cert.validity().not_after.timestamp(),
    ))
}

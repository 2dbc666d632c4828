//! Insomnia's Nunjucks templates as wsbench `{{variables}}`.

/// Convert Insomnia's Nunjucks to wsbench templates: `{{ _.name }}`, `{{ name }}` and
/// `{{ vault.name }}` become `{{name}}`; `{% uuid %}` becomes `{{$uuid}}` and
/// `{% now %}` (ISO 8601 or unix seconds) `{{$isoTimestamp}}` or `{{$timestamp}}`.
/// Returns the text and the templates kept as written (filters, other tags).
pub(crate) fn convert_template(s: &str) -> (String, Vec<String>) {
    let mut out = String::with_capacity(s.len());
    let mut kept = Vec::new();
    let mut rest = s;
    loop {
        let (at, is_tag) = match (rest.find("{{"), rest.find("{%")) {
            (None, None) => break,
            (Some(a), None) => (a, false),
            (None, Some(b)) => (b, true),
            (Some(a), Some(b)) => (a.min(b), b < a),
        };
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let close = if is_tag { "%}" } else { "}}" };
        let Some(end) = after.find(close) else {
            out.push_str(&rest[at..]);
            rest = "";
            break;
        };
        let whole = &rest[at..at + 2 + end + 2];
        let inner = after[..end].trim();
        let replaced = if is_tag { tag(inner) } else { variable(inner) };
        match replaced {
            Some(r) => out.push_str(&r),
            None => {
                out.push_str(whole);
                kept.push(whole.to_owned());
            }
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    (out, kept)
}

fn variable(expr: &str) -> Option<String> {
    let mut e = expr.trim();
    if let Some(x) = e.strip_prefix("_[").and_then(|x| x.strip_suffix(']')) {
        e = x.trim().trim_matches(|c| c == '\'' || c == '"');
    } else if let Some(x) = e.strip_prefix("_.") {
        e = x;
    }
    let e = e.strip_prefix("vault.").unwrap_or(e);
    let mut chars = e.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    (first_ok && rest_ok && !e.ends_with('.')).then(|| format!("{{{{{e}}}}}"))
}

fn tag(inner: &str) -> Option<String> {
    let (name, args) = inner.split_once(char::is_whitespace).unwrap_or((inner, ""));
    let args: Vec<&str> = args
        .split(',')
        .map(|a| a.trim().trim_matches(|c| c == '\'' || c == '"').trim())
        .filter(|a| !a.is_empty())
        .collect();
    match (name, args.as_slice()) {
        ("uuid", []) | ("uuid", ["v4"]) => Some("{{$uuid}}".to_owned()),
        ("now", []) | ("now", ["iso-8601"]) => Some("{{$isoTimestamp}}".to_owned()),
        ("now", ["unix"]) => Some("{{$timestamp}}".to_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::convert_template;

    #[test]
    fn nunjucks_becomes_wsbench_templates() {
        let c = |s: &str| convert_template(s);
        assert_eq!(c("{{ _.host }}/x?t={{token}}").0, "{{host}}/x?t={{token}}");
        assert_eq!(
            c("{{ _['api-key'] }} {{ vault.secret }} {{_.a.b}}").0,
            "{{api-key}} {{secret}} {{a.b}}"
        );
        assert_eq!(
            c("{% uuid 'v4' %}|{% now 'iso-8601', '' %}|{% now 'unix' %}").0,
            "{{$uuid}}|{{$isoTimestamp}}|{{$timestamp}}"
        );
        let (text, kept) = c("a {% response 'body', 'req_1', '$.t' %} {{ _.x | upper }} {% now 'millis' %} {{");
        assert_eq!(
            text,
            "a {% response 'body', 'req_1', '$.t' %} {{ _.x | upper }} {% now 'millis' %} {{"
        );
        assert_eq!(
            kept,
            [
                "{% response 'body', 'req_1', '$.t' %}",
                "{{ _.x | upper }}",
                "{% now 'millis' %}"
            ]
        );
        assert_eq!(c("plain {text}").0, "plain {text}");
    }
}

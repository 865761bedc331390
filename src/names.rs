//! Newtypes that cannot hold a bad value: an image [`Tag`] that is never `latest` or empty, a
//! [`Digest`] that is `sha256:` plus 64 hex digits, a [`DnsLabel`] that Kubernetes accepts as
//! a namespace or object name; and the label-key predicates every stage shares (which keys
//! Kubernetes, Pod Security Admission, stencil or Argo CD own).

use std::fmt;

/// An OCI image tag (`[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`), never `latest`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag(String);

impl Tag {
    pub fn parse(text: &str) -> Result<Tag, String> {
        if text.is_empty() {
            return Err("the image tag is empty".into());
        }
        if text.eq_ignore_ascii_case("latest") {
            return Err(format!(
                "the image tag `{text}` is mutable: it resolves to different images on different nodes and cannot be rolled back"
            ));
        }
        let mut bytes = text.bytes();
        let first_ok = bytes
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
        let rest_ok = bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if !first_ok || !rest_ok || text.len() > 128 {
            return Err(format!(
                "`{text}` is not a valid image tag (letters, digits, `_`, `.`, `-`; at most 128; not starting with `.` or `-`)"
            ));
        }
        Ok(Tag(text.to_owned()))
    }

    /// Like [`Tag::parse`] but accepts `latest`: only for tenants that `stencil.yaml` grants
    /// the `mutable-image-tag` exception, with a reason.
    pub fn parse_allowing_mutable(text: &str) -> Result<Tag, String> {
        if text.eq_ignore_ascii_case("latest") {
            return Ok(Tag(text.to_owned()));
        }
        Tag::parse(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A content digest: `sha256:` followed by 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest(String);

impl Digest {
    pub fn parse(text: &str) -> Result<Digest, String> {
        let hex = text
            .strip_prefix("sha256:")
            .ok_or_else(|| format!("`{text}` is not a digest: it must start with `sha256:`"))?;
        if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(format!(
                "`{text}` is not a digest: `sha256:` must be followed by 64 lowercase hex digits"
            ));
        }
        Ok(Digest(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A DNS-1123 label: lowercase letters, digits and `-`, starting and ending with an
/// alphanumeric, at most 63 characters. Valid as a namespace and as an object name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DnsLabel(String);

impl DnsLabel {
    pub fn parse(text: &str) -> Result<DnsLabel, String> {
        check_dns_label(text, 63)?;
        Ok(DnsLabel(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DnsLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks a DNS-1123 label of at most `max` characters.
pub fn check_dns_label(text: &str, max: usize) -> Result<(), String> {
    if text.is_empty() {
        return Err("the name is empty".into());
    }
    if text.len() > max {
        return Err(format!(
            "`{text}` is {} characters long; Kubernetes allows at most {max}",
            text.len()
        ));
    }
    let bytes = text.as_bytes();
    let ok_inner = bytes
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
    let ok_ends = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !ok_inner || !ok_ends(bytes[0]) || !ok_ends(bytes[bytes.len() - 1]) {
        let suggestion: String = text
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
            .trim_matches('-')
            .to_string();
        return Err(format!(
            "`{text}` is not a valid Kubernetes name (DNS-1123 label: lowercase letters, digits and `-`, starting and ending with a letter or digit); `{suggestion}` would be"
        ));
    }
    Ok(())
}

/// Checks a label or annotation key: an optional DNS subdomain prefix and `/`, then a name
/// of at most 63 characters (alphanumerics, `-`, `_`, `.`, starting and ending alphanumeric).
pub fn check_qualified_name(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let bad = || {
        format!(
            "`{key}` is not a valid label or annotation key ([prefix/]name, name at most 63 characters of letters, digits, `-`, `_`, `.`)"
        )
    };
    if let Some(prefix) = prefix
        && (prefix.is_empty()
            || prefix.len() > 253
            || prefix.split('.').any(|l| check_dns_label(l, 63).is_err()))
    {
        return Err(bad());
    }
    if !is_label_value(name) || name.is_empty() {
        return Err(bad());
    }
    Ok(())
}

/// Label values: empty, or at most 63 alphanumerics, `-`, `_`, `.`, starting and ending
/// alphanumeric.
fn is_label_value(value: &str) -> bool {
    if value.is_empty() {
        return true;
    }
    let bytes = value.as_bytes();
    value.len() <= 63
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

pub fn check_label_value(key: &str, value: &str) -> Result<(), String> {
    if is_label_value(value) {
        Ok(())
    } else {
        Err(format!(
            "label `{key}` has the value `{value}`, which is not a valid label value (at most 63 letters, digits, `-`, `_`, `.`)"
        ))
    }
}

/// A container port name (IANA service name): at most 15 lowercase letters, digits and
/// `-`, at least one letter, no `--`, not starting or ending with `-`.
pub fn check_port_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 15
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.bytes().any(|b| b.is_ascii_lowercase())
        && !name.contains("--")
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a valid port name (at most 15 lowercase letters, digits and single `-`, with a letter)"
        ))
    }
}

/// A Kubernetes quantity: a decimal number with an optional SI, binary or exponent suffix
/// (`250m`, `1.5`, `512Mi`, `1e3`).
pub fn check_quantity(text: &str) -> Result<(), String> {
    let bad =
        || format!("`{text}` is not a Kubernetes quantity (e.g. `250m`, `1`, `512Mi`, `2Gi`)");
    let body = text.strip_prefix(['+', '-']).unwrap_or(text);
    let digits_end = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(body.len());
    let (number, suffix) = body.split_at(digits_end);
    if number.is_empty() || number == "." || number.matches('.').count() > 1 {
        return Err(bad());
    }
    let suffix_ok = matches!(
        suffix,
        "" | "m" | "k" | "M" | "G" | "T" | "P" | "E" | "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei"
    ) || suffix
        .strip_prefix(['e', 'E'])
        .map(|e| e.strip_prefix(['+', '-']).unwrap_or(e))
        .is_some_and(|e| !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()));
    if suffix_ok { Ok(()) } else { Err(bad()) }
}

/// Checks an environment variable name: `[A-Za-z_][A-Za-z0-9_.-]*`, no `=`.
pub fn check_env_name(text: &str) -> Result<(), String> {
    let mut bytes = text.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
    if !first_ok || !bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')) {
        return Err(format!(
            "`{text}` is not a valid environment variable name (letters, digits, `_`, `.`, `-`, not starting with a digit; no `=`)"
        ));
    }
    Ok(())
}

/// The label prefix of Pod Security Admission; the platform sets these on the Namespace.
pub const POD_SECURITY_LABELS: &str = "pod-security.kubernetes.io/";

/// Whether a label key is one of Pod Security Admission's (`pod-security.kubernetes.io/*`).
pub fn is_pod_security_label(key: &str) -> bool {
    key.get(..POD_SECURITY_LABELS.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(POD_SECURITY_LABELS))
}

/// Whether a label key has a prefix Kubernetes reserves for its own components
/// (`kubernetes.io/`, `k8s.io/` and their subdomains, but `app.kubernetes.io/`, the
/// recommended labels). On a Namespace such labels switch cluster behaviour on:
/// `resource.k8s.io/admin-access` lets the namespace's ResourceClaims reach devices other
/// tenants' pods use, `pod-security.kubernetes.io/*` sets the Pod Security level.
pub fn is_kubernetes_reserved(key: &str) -> bool {
    let Some((prefix, _)) = key.split_once('/') else {
        return false;
    };
    let prefix = prefix.to_ascii_lowercase();
    prefix != "app.kubernetes.io"
        && ["kubernetes.io", "k8s.io"]
            .iter()
            .any(|r| prefix == *r || prefix.ends_with(&format!(".{r}")))
}

/// Whether stencil or Argo CD owns a label or annotation key: what says which tenant,
/// service and Application an object belongs to.
pub fn is_platform_owned(key: &str) -> bool {
    key.starts_with("stencil.dev/")
        || key.starts_with("argocd.argoproj.io/")
        || matches!(
            key,
            "app.kubernetes.io/managed-by"
                | "app.kubernetes.io/part-of"
                | "app.kubernetes.io/name"
                | "app.kubernetes.io/instance"
        )
}

/// The name of a sidecar's port: IANA service names are at most 15 characters.
pub fn sidecar_port_name(sidecar: &str) -> String {
    let mut name: String = sidecar.chars().take(15).collect();
    while name.ends_with('-') {
        name.pop();
    }
    name
}

/// The prefix of the owner labels stencil puts on every alert (`stencil_dev_tenant`,
/// `stencil_dev_service`): alert routing finds the team by them.
pub const ALERT_OWNER_PREFIX: &str = "stencil_dev_";

/// The ConfigMap key of a file mounted at `path`: the path without its leading `/`, with
/// `/` as `_` (keys may hold only letters, digits, `-`, `_` and `.`).
pub fn file_key(path: &str) -> String {
    path.trim_start_matches('/').replace('/', "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        assert!(Tag::parse("1.2.3").is_ok());
        assert!(Tag::parse("2024.11.3-abc123_x").is_ok());
        assert!(Tag::parse("latest").is_err());
        assert!(Tag::parse("LATEST").is_err());
        assert!(Tag::parse("").is_err());
        assert!(Tag::parse(".hidden").is_err());
        assert!(Tag::parse("-x").is_err());
        assert!(Tag::parse("a/b").is_err());
        assert!(Tag::parse(&"a".repeat(128)).is_ok());
        assert!(Tag::parse(&"a".repeat(129)).is_err());
    }

    #[test]
    fn digests() {
        let good = format!("sha256:{}", "a1".repeat(32));
        assert!(Digest::parse(&good).is_ok());
        assert!(Digest::parse("sha256:abc").is_err());
        assert!(Digest::parse(&good.to_uppercase()).is_err());
        assert!(Digest::parse(&"a1".repeat(32)).is_err());
    }

    #[test]
    fn dns_labels() {
        assert!(DnsLabel::parse("tenant-one").is_ok());
        let err = DnsLabel::parse("Tenant_One").unwrap_err();
        assert!(err.contains("`tenant-one` would be"), "{err}");
        assert!(DnsLabel::parse("-a").is_err());
        assert!(DnsLabel::parse(&"a".repeat(64)).is_err());
    }

    #[test]
    fn qualified_names_and_values() {
        assert!(check_qualified_name("app.kubernetes.io/name").is_ok());
        assert!(check_qualified_name("checksum/config").is_ok());
        assert!(check_qualified_name("alb.ingress.kubernetes.io/group.name").is_ok());
        assert!(check_qualified_name("bad key!").is_err());
        assert!(check_qualified_name("").is_err());
        assert!(check_qualified_name("/x").is_err());
        assert!(check_qualified_name("Upper.Case/x").is_err());
        assert!(check_label_value("k", "v1.2_3-x").is_ok());
        assert!(check_label_value("k", "has space").is_err());
    }

    #[test]
    fn port_names_and_quantities() {
        assert!(check_port_name("http").is_ok());
        assert!(check_port_name("copilotkit-runt").is_ok());
        assert!(check_port_name("9000").is_err());
        assert!(check_port_name("a--b").is_err());
        assert!(check_port_name("abcdefghijklmnop").is_err());
        for q in ["250m", "1", "0.5", "512Mi", "2Gi", "1e3", "1.5G", "+1"] {
            assert!(check_quantity(q).is_ok(), "{q}");
        }
        for q in ["lots", "", "1.2.3", "5 Gi", "1gb", "Mi", "1e"] {
            assert!(check_quantity(q).is_err(), "{q}");
        }
    }

    #[test]
    fn env_names() {
        assert!(check_env_name("LOG_LEVEL").is_ok());
        assert!(check_env_name("A=B").is_err());
        assert!(check_env_name("1A").is_err());
    }

    #[test]
    fn label_keys_owned_by_others() {
        for key in [
            "kubernetes.io/x",
            "k8s.io/x",
            "resource.k8s.io/admin-access",
            "Node.Kubernetes.IO/x",
        ] {
            assert!(is_kubernetes_reserved(key), "{key}");
        }
        for key in [
            "app.kubernetes.io/name",
            "example.com/x",
            "kubernetes.io",
            "notk8s.io/x",
        ] {
            assert!(!is_kubernetes_reserved(key), "{key}");
        }
        assert!(is_pod_security_label("pod-security.kubernetes.io/enforce"));
        assert!(is_pod_security_label("Pod-Security.Kubernetes.io/warn"));
        assert!(!is_pod_security_label("pod-security.kubernetes.io"));
        for key in [
            "stencil.dev/tenant",
            "argocd.argoproj.io/instance",
            "app.kubernetes.io/part-of",
        ] {
            assert!(is_platform_owned(key), "{key}");
        }
        for key in [
            "app.kubernetes.io/version",
            "team.example.com/x",
            "stencil.dev",
        ] {
            assert!(!is_platform_owned(key), "{key}");
        }
    }
}

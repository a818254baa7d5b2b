//! Kubernetes name rules (k8s.io/apimachinery/pkg/util/validation), with their
//! messages. Each check returns the reasons a value is invalid (empty when valid).

const DNS1123_LABEL_MESSAGE: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1123_SUBDOMAIN_MESSAGE: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const QUALIFIED_NAME_MESSAGE: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MESSAGE: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

/// A DNS-1123 label: container, volume, namespace names (at most 63 characters).
pub fn dns1123_label(value: &str) -> Vec<String> {
    let mut reasons = Vec::new();
    if value.len() > 63 {
        reasons.push("must be no more than 63 characters".to_string());
    }
    if !is_label_shape(value) {
        reasons.push(DNS1123_LABEL_MESSAGE.to_string());
    }
    reasons
}

/// A DNS-1123 subdomain: pod names (at most 253 characters).
pub fn dns1123_subdomain(value: &str) -> Vec<String> {
    let mut reasons = Vec::new();
    if value.len() > 253 {
        reasons.push("must be no more than 253 characters".to_string());
    }
    if !value.split('.').all(is_label_shape) {
        reasons.push(DNS1123_SUBDOMAIN_MESSAGE.to_string());
    }
    reasons
}

/// A qualified name: label and annotation keys (`app`, `example.com/tier`).
pub fn qualified_name(value: &str) -> Vec<String> {
    let mut reasons = Vec::new();
    let (prefix, name) = match value.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, value),
    };
    if let Some(prefix) = prefix {
        if prefix.is_empty() {
            reasons.push("prefix part must be non-empty".to_string());
        } else {
            for reason in dns1123_subdomain(prefix) {
                reasons.push(format!("prefix part {reason}"));
            }
        }
    }
    if name.is_empty() {
        reasons.push("name part must be non-empty".to_string());
    } else {
        if name.len() > 63 {
            reasons.push("name part must be no more than 63 characters".to_string());
        }
        if !is_qualified_shape(name) {
            reasons.push(QUALIFIED_NAME_MESSAGE.to_string());
        }
    }
    reasons
}

/// A label value: empty, or at most 63 alphanumerics, `-`, `_`, `.`.
pub fn label_value(value: &str) -> Vec<String> {
    let mut reasons = Vec::new();
    if value.len() > 63 {
        reasons.push("must be no more than 63 characters".to_string());
    }
    if !value.is_empty() && !is_qualified_shape(value) {
        reasons.push(LABEL_VALUE_MESSAGE.to_string());
    }
    reasons
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
fn is_label_shape(value: &str) -> bool {
    let alphanumeric = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    value.starts_with(alphanumeric)
        && value.ends_with(alphanumeric)
        && value.chars().all(|c| alphanumeric(c) || c == '-')
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
fn is_qualified_shape(value: &str) -> bool {
    let alphanumeric = |c: char| c.is_ascii_alphanumeric();
    value.starts_with(alphanumeric)
        && value.ends_with(alphanumeric)
        && value
            .chars()
            .all(|c| alphanumeric(c) || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_subdomains() {
        assert!(dns1123_label("nginx-1").is_empty());
        assert!(!dns1123_label("Nginx").is_empty());
        assert!(!dns1123_label("a.b").is_empty());
        assert!(!dns1123_label(&"a".repeat(64)).is_empty());
        assert!(dns1123_subdomain("web.example-1").is_empty());
        assert!(!dns1123_subdomain("Bad_Name").is_empty());
        assert!(!dns1123_subdomain("a..b").is_empty());
        assert!(!dns1123_subdomain("").is_empty());
    }

    #[test]
    fn qualified_names_and_label_values() {
        assert!(qualified_name("app").is_empty());
        assert!(qualified_name("example.com/My_Key.1").is_empty());
        assert!(!qualified_name("Example.com/key").is_empty());
        assert!(!qualified_name("/key").is_empty());
        assert!(!qualified_name("key-").is_empty());
        assert!(label_value("").is_empty());
        assert!(label_value("v1.2_x").is_empty());
        assert!(!label_value("a b").is_empty());
        assert!(!label_value(&"a".repeat(64)).is_empty());
    }
}

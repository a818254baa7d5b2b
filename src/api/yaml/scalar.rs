//! Plain (unquoted) scalars resolved as go-yaml v2 does (YAML 1.1), which is what
//! kubectl sees. Quoted and block scalars are always strings and never come here.
//!
//! go-yaml v2's rules (resolve.go), in order:
//! - exact words: `~ null Null NULL` and the empty scalar are null;
//!   `y Y yes Yes YES on On ON true True TRUE` are true;
//!   `n N no No NO off Off OFF false False FALSE` are false;
//!   `.inf .nan` and friends are floats;
//! - a scalar starting with a digit, `+` or `-`: with `_` removed, an integer as Go's
//!   `strconv.ParseInt(s, 0, 64)` reads it (`0x1F` hex, `0o17` and `017` octal,
//!   `0b101` binary), else a float like `1.5`, `1e3` or `-.5`;
//! - a scalar starting with `.`: a float like `.5`;
//! - everything else is a string. (Timestamps stay strings when decoded into
//!   untyped values, so they need no rule.)
//!
//! sigs.k8s.io/yaml then writes whole floats as JSON integers (`1e3` → `1000`).

use serde_json::{Number, Value};

/// The JSON value of a plain scalar.
pub fn resolve_plain(text: &str) -> Value {
    if let Some(value) = resolve_word(text) {
        return value;
    }
    match text.chars().next() {
        Some('0'..='9' | '+' | '-') => resolve_number(text).unwrap_or_else(|| string(text)),
        Some('.') => parse_float(text)
            .map(float_value)
            .unwrap_or_else(|| string(text)),
        _ => string(text),
    }
}

/// A map key as sigs.k8s.io/yaml writes it: scalars that resolve to numbers,
/// booleans or null become their text (`on:` is the key `"true"`).
pub fn resolve_plain_key(text: &str) -> String {
    match resolve_plain(text) {
        Value::String(key) => key,
        Value::Null => "null".to_string(),
        other => other.to_string(),
    }
}

fn string(text: &str) -> Value {
    Value::String(text.to_string())
}

fn resolve_word(text: &str) -> Option<Value> {
    let value = match text {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            Value::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            Value::Bool(false)
        }
        // JSON has no infinity or NaN; sigs.k8s.io/yaml fails on them later. We keep
        // them as text so the typed decoding reports the field.
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => string(text),
        _ => return None,
    };
    Some(value)
}

fn resolve_number(text: &str) -> Option<Value> {
    let plain = text.replace('_', "");
    if let Some(int) = parse_go_int(&plain) {
        return Some(Value::Number(int));
    }
    if looks_like_yaml_float(&plain) {
        return parse_float(&plain).map(float_value);
    }
    None
}

/// Go's `strconv.ParseInt(s, 0, 64)` (falling back to `ParseUint` for big positives).
fn parse_go_int(text: &str) -> Option<Number> {
    let (negative, unsigned) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let lower = unsigned.to_ascii_lowercase();
    let (radix, digits) = if let Some(hex) = lower.strip_prefix("0x") {
        (16, hex)
    } else if let Some(octal) = lower.strip_prefix("0o") {
        (8, octal)
    } else if let Some(binary) = lower.strip_prefix("0b") {
        (2, binary)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    // from_str_radix accepts a sign of its own; Go does not after the prefix.
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if negative {
        let value = 0i64.checked_sub_unsigned(magnitude)?;
        Some(Number::from(value))
    } else {
        Some(Number::from(magnitude))
    }
}

/// go-yaml's float pattern: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn looks_like_yaml_float(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", fraction)) => all_digits(fraction),
        Some((whole, fraction)) => {
            all_digits(whole) && fraction.bytes().all(|b| b.is_ascii_digit())
        }
        None => all_digits(mantissa),
    };
    let exponent_ok = match exponent {
        Some(exp) => all_digits(exp.strip_prefix(['-', '+']).unwrap_or(exp)),
        None => true,
    };
    mantissa_ok && exponent_ok
}

fn parse_float(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|value| value.is_finite())
}

/// A float as JSON: whole values become integers, as Go's JSON writer prints them.
fn float_value(value: f64) -> Value {
    let is_whole = value.fract() == 0.0 && value.abs() < 9.0e15;
    if is_whole {
        Value::Number(Number::from(value as i64))
    } else {
        Number::from_f64(value).map_or(Value::Null, Value::Number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integers_as_go_reads_them() {
        assert_eq!(resolve_plain("01777"), json!(1023));
        assert_eq!(resolve_plain("0o17"), json!(15));
        assert_eq!(resolve_plain("0x1F"), json!(31));
        assert_eq!(resolve_plain("0b101"), json!(5));
        assert_eq!(resolve_plain("-0x10"), json!(-16));
        assert_eq!(resolve_plain("+7"), json!(7));
        assert_eq!(resolve_plain("0"), json!(0));
        assert_eq!(resolve_plain("65536"), json!(65536));
        assert_eq!(
            resolve_plain("18446744073709551615"),
            json!(18446744073709551615u64)
        );
    }

    #[test]
    fn floats() {
        assert_eq!(resolve_plain("1.5"), json!(1.5));
        assert_eq!(resolve_plain(".5"), json!(0.5));
        assert_eq!(resolve_plain("1e3"), json!(1000));
        // `08` is not octal; go-yaml falls back to the float 8.
        assert_eq!(resolve_plain("08"), json!(8));
    }

    #[test]
    fn booleans_and_null() {
        for word in ["y", "Yes", "ON", "true"] {
            assert_eq!(resolve_plain(word), json!(true), "{word}");
        }
        for word in ["n", "no", "Off", "FALSE"] {
            assert_eq!(resolve_plain(word), json!(false), "{word}");
        }
        assert_eq!(resolve_plain("~"), json!(null));
        assert_eq!(resolve_plain(""), json!(null));
    }

    #[test]
    fn strings() {
        for text in [
            "nginx:1.27",
            "1.2.3",
            "0x",
            "-",
            "10Mi",
            "yess",
            "2001-12-14",
        ] {
            assert_eq!(resolve_plain(text), json!(text), "{text}");
        }
    }

    #[test]
    fn keys_become_text() {
        assert_eq!(resolve_plain_key("on"), "true");
        assert_eq!(resolve_plain_key("80"), "80");
        assert_eq!(resolve_plain_key("name"), "name");
    }
}

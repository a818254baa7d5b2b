//! Kubernetes resource quantities: `10Mi`, `1G`, `500m`, `1.5`, `2e3`.
//!
//! The grammar (k8s.io/apimachinery/pkg/api/resource):
//! `<sign>? <digits>[.<digits>] <suffix>` where the suffix is a binary one
//! (`Ki Mi Gi Ti Pi Ei`), a decimal one (`m`, none, `k M G T P E`) or an
//! exponent (`e3`, `E-2`).

use std::fmt;

/// A parsed quantity; `value` is in base units (bytes, cores).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantity {
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantityError;

impl fmt::Display for QuantityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The API server's wording.
        f.write_str("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
    }
}

impl std::error::Error for QuantityError {}

impl Quantity {
    /// Whole base units, rounded up as Kubernetes rounds quantities (`1.5` → 2).
    pub fn ceil_units(&self) -> u64 {
        self.value.max(0.0).ceil() as u64
    }
}

/// Parses `text` as a Kubernetes quantity.
pub fn parse_quantity(text: &str) -> Result<Quantity, QuantityError> {
    let number_len = text
        .char_indices()
        .find(|(at, c)| !(c.is_ascii_digit() || *c == '.' || (*at == 0 && matches!(c, '+' | '-'))))
        .map_or(text.len(), |(at, _)| at);
    let (number, suffix) = text.split_at(number_len);
    let number = parse_number(number).ok_or(QuantityError)?;
    let multiplier = suffix_multiplier(suffix).ok_or(QuantityError)?;
    Ok(Quantity {
        value: number * multiplier,
    })
}

/// `[+-]? (digits | digits. | .digits | digits.digits)`
fn parse_number(text: &str) -> Option<f64> {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let digits_and_dot = unsigned.chars().all(|c| c.is_ascii_digit() || c == '.');
    let has_digit = unsigned.chars().any(|c| c.is_ascii_digit());
    if !digits_and_dot || !has_digit || unsigned.matches('.').count() > 1 {
        return None;
    }
    text.parse().ok()
}

fn suffix_multiplier(suffix: &str) -> Option<f64> {
    let binary = |power: i32| Some(1024f64.powi(power));
    let decimal = |power: i32| Some(10f64.powi(power));
    match suffix {
        "" => decimal(0),
        "Ki" => binary(1),
        "Mi" => binary(2),
        "Gi" => binary(3),
        "Ti" => binary(4),
        "Pi" => binary(5),
        "Ei" => binary(6),
        "n" => decimal(-9),
        "u" => decimal(-6),
        "m" => decimal(-3),
        "k" => decimal(3),
        "M" => decimal(6),
        "G" => decimal(9),
        "T" => decimal(12),
        "P" => decimal(15),
        "E" => decimal(18),
        _ => {
            let exponent = suffix.strip_prefix(['e', 'E'])?;
            let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            decimal(exponent.parse().ok()?)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> f64 {
        parse_quantity(text).unwrap().value
    }

    #[test]
    fn suffixes() {
        assert_eq!(value("10Mi"), 10.0 * 1024.0 * 1024.0);
        assert_eq!(value("1G"), 1e9);
        assert_eq!(value("500m"), 0.5);
        assert_eq!(value("1.5Gi"), 1.5 * 1024.0 * 1024.0 * 1024.0);
        assert_eq!(value("2e3"), 2000.0);
        assert_eq!(value("128974848"), 128974848.0);
        assert_eq!(value(".5"), 0.5);
        assert_eq!(value("-1k"), -1000.0);
        assert_eq!(value("1E"), 1e18);
    }

    #[test]
    fn rounding_up_to_whole_units() {
        assert_eq!(parse_quantity("1.5").unwrap().ceil_units(), 2);
        assert_eq!(parse_quantity("64Mi").unwrap().ceil_units(), 67108864);
    }

    #[test]
    fn invalid_quantities() {
        for text in [
            "", "10MB", "ten", "1.2.3", "Mi", "1 Mi", "1e", "--1", "1Mi ",
        ] {
            assert!(parse_quantity(text).is_err(), "{text}");
        }
    }
}

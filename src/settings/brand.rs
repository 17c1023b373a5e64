//! The operator's brand on the pages and in the messages: a name, a logo, an accent colour
//! (refused below WCAG AA contrast against white) and how to reach support.

use super::*;

/// The accent colour the pages ship with (buttons and links), 6.4:1 against white.
pub const DEFAULT_ACCENT: &str = "#0b57d0";

#[derive(Debug, Clone)]
pub struct BrandSettings {
    /// The organisation's name, shown above every page and signing every email.
    pub name: Option<String>,
    /// A PNG or SVG file shown beside the name (`BRAND_LOGO_FILE`); read and checked at start.
    pub logo_file: Option<PathBuf>,
    /// Buttons and links, `#rrggbb`, at least 4.5:1 against white.
    pub accent: String,
    /// How people reach support (`help@corp.example, +1 555 0100`): on error pages and in emails.
    pub support_contact: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct RawBrand {
    brand_name: Option<String>,
    brand_logo_file: Option<String>,
    brand_accent_color: String,
    support_contact: Option<String>,
}

/// Text an operator writes for people to read: trimmed, 1 to `max` characters, no control
/// characters; empty is unset.
fn operator_text(
    name: &str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, SettingsError> {
    let Some(value) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(invalid(
            name,
            format!("must be at most {max} characters, without control characters"),
        ));
    }
    Ok(Some(value))
}

/// The WCAG 2.2 contrast ratio of `#rrggbb` against white; None when it is not `#rrggbb`.
pub fn contrast_with_white(color: &str) -> Option<f64> {
    let hex = color.strip_prefix('#').filter(|h| h.len() == 6)?;
    let channel = |i: usize| -> Option<f64> {
        let value = f64::from(u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()?) / 255.0;
        Some(if value <= 0.04045 {
            value / 12.92
        } else {
            ((value + 0.055) / 1.055).powf(2.4)
        })
    };
    let luminance = 0.2126 * channel(0)? + 0.7152 * channel(2)? + 0.0722 * channel(4)?;
    Some(1.05 / (luminance + 0.05))
}

impl TryFrom<RawBrand> for BrandSettings {
    type Error = SettingsError;

    fn try_from(raw: RawBrand) -> Result<Self, SettingsError> {
        let accent = raw.brand_accent_color.trim().to_ascii_lowercase();
        match contrast_with_white(&accent) {
            None => {
                return Err(invalid(
                    "BRAND_ACCENT_COLOR",
                    format!("must be a colour as #rrggbb, not `{accent}`"),
                ))
            }
            Some(ratio) if ratio < 4.5 => {
                return Err(invalid(
                    "BRAND_ACCENT_COLOR",
                    format!(
                        "`{accent}` has a contrast of {ratio:.2}:1 against white; WCAG AA needs 4.5:1 for its text and buttons: choose a darker colour"
                    ),
                ))
            }
            Some(_) => {}
        }
        Ok(Self {
            name: operator_text("BRAND_NAME", raw.brand_name, 64)?,
            logo_file: raw
                .brand_logo_file
                .filter(|f| !f.trim().is_empty())
                .map(PathBuf::from),
            accent,
            support_contact: operator_text("SUPPORT_CONTACT", raw.support_contact, 200)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_is_measured_as_wcag_does() {
        let ratio = |c: &str| (contrast_with_white(c).unwrap() * 100.0).round() / 100.0;
        assert_eq!(ratio("#000000"), 21.0);
        assert_eq!(ratio("#ffffff"), 1.0);
        assert_eq!(ratio(DEFAULT_ACCENT), 6.39);
        // The well-known boundary: #767676 passes AA, #777777 does not.
        assert!(contrast_with_white("#767676").unwrap() >= 4.5);
        assert!(contrast_with_white("#777777").unwrap() < 4.5);
        assert_eq!(contrast_with_white("0b57d0"), None);
        assert_eq!(contrast_with_white("#0b57d"), None);
        assert_eq!(contrast_with_white("#gg0000"), None);
    }
}

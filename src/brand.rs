//! The operator's brand as the pages and messages show it, read once at start: the name and the
//! support contact (`BRAND_NAME`, `SUPPORT_CONTACT`), the logo (`BRAND_LOGO_FILE`: a PNG as it
//! is, an SVG parsed and written out again as drawing only), and the pages' stylesheet in the
//! accent colour (`BRAND_ACCENT_COLOR`).

use anyhow::Context;
use bytes::Bytes;

use crate::settings::{BrandSettings, DEFAULT_ACCENT};

/// The largest logo file taken: a logo is a few kilobytes.
pub const LOGO_MAX_BYTES: u64 = 256 * 1024;

const STYLESHEET: &str = include_str!("routes/assets/pages.css");

/// A logo as the service serves it.
#[derive(Debug, Clone)]
pub struct Logo {
    pub bytes: Bytes,
    pub content_type: &'static str,
}

#[derive(Debug, Clone)]
pub struct Brand {
    pub name: Option<String>,
    pub support_contact: Option<String>,
    pub logo: Option<Logo>,
    /// The pages' stylesheet, in the accent colour.
    pub stylesheet: Bytes,
}

impl Default for Brand {
    /// No brand: the pages as they ship.
    fn default() -> Self {
        Self {
            name: None,
            support_contact: None,
            logo: None,
            stylesheet: Bytes::from_static(STYLESHEET.as_bytes()),
        }
    }
}

impl Brand {
    /// Reads the logo file and makes the stylesheet; an unreadable, oversized or unknown logo
    /// stops the start, named by its setting.
    pub fn load(settings: &BrandSettings) -> anyhow::Result<Self> {
        let logo = match &settings.logo_file {
            Some(path) => Some(read_logo(path).with_context(|| {
                format!("BRAND_LOGO_FILE {} cannot be the logo", path.display())
            })?),
            None => None,
        };
        Ok(Self {
            name: settings.name.clone(),
            support_contact: settings.support_contact.clone(),
            logo,
            stylesheet: Bytes::from(STYLESHEET.replace(DEFAULT_ACCENT, &settings.accent)),
        })
    }
}

fn read_logo(path: &std::path::Path) -> anyhow::Result<Logo> {
    let size = std::fs::metadata(path)?.len();
    anyhow::ensure!(
        size <= LOGO_MAX_BYTES,
        "it is {size} bytes; at most {LOGO_MAX_BYTES} are taken"
    );
    logo_from(&std::fs::read(path)?)
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// A PNG as it is; anything else must be an SVG, and is parsed and written out again: what
/// comes out is drawing only (no script, event handler, link, external file or text).
pub fn logo_from(bytes: &[u8]) -> anyhow::Result<Logo> {
    if bytes.starts_with(PNG_SIGNATURE) {
        return Ok(Logo {
            bytes: Bytes::copy_from_slice(bytes),
            content_type: "image/png",
        });
    }
    let options = usvg::Options {
        // An <image> may embed a picture (data: URL), never name a file or an address.
        image_href_resolver: usvg::ImageHrefResolver {
            resolve_data: usvg::ImageHrefResolver::default_data_resolver(),
            resolve_string: Box::new(|_, _| None),
        },
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_data(bytes, &options)
        .map_err(|e| anyhow::anyhow!("it is neither a PNG nor an SVG that can be read: {e}"))?;
    Ok(Logo {
        bytes: Bytes::from(tree.to_string(&usvg::WriteOptions::default())),
        content_type: "image/svg+xml",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_svg_logo_keeps_its_drawing_and_loses_scripts_handlers_and_links() {
        let svg = r##"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="40" height="20" onload="alert(1)">
<script>alert(2)</script>
<a xlink:href="javascript:alert(3)"><rect width="40" height="20" fill="#0b57d0" onclick="alert(4)"/></a>
<image xlink:href="https://tracker.example/p.png" width="1" height="1"/>
<image xlink:href="/etc/hostname" width="1" height="1"/>
<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject>
</svg>"##;
        let logo = logo_from(svg.as_bytes()).unwrap();
        assert_eq!(logo.content_type, "image/svg+xml");
        let out = String::from_utf8(logo.bytes.to_vec()).unwrap();
        assert!(out.contains("<path") || out.contains("<rect"), "{out}");
        assert!(out.to_lowercase().contains("#0b57d0"), "{out}");
        for gone in [
            "script",
            "alert",
            "onload",
            "onclick",
            "javascript",
            "tracker",
            "hostname",
            "foreignObject",
        ] {
            assert!(!out.contains(gone), "{gone} in {out}");
        }
    }

    #[test]
    fn a_png_is_kept_and_anything_else_is_refused() {
        let png = [PNG_SIGNATURE, b"rest"].concat();
        assert_eq!(logo_from(&png).unwrap().content_type, "image/png");
        let err = logo_from(b"GIF89a....").unwrap_err().to_string();
        assert!(err.contains("neither a PNG nor an SVG"), "{err}");
    }
}

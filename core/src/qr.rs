//! Drawing QR codes: a module matrix for native drawing, and SVG.
//!
//! Owns: turning text into a QR code and its renderings. Every QR code the SDK emits (identity
//! presentations, VietQR fees, venue codes the sandbox mints) is drawn by one function,
//! [`render`], at a chosen [`ErrorCorrection`]; [`QrImage::encode`] is its shorthand for codes
//! shown on a screen. Pure and I/O-free. Does not own what the text says (`id1`, `vietqr`,
//! `checkin`).

use qrcode::{Color, EcLevel, QrCode};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QrError {
    #[error("the text does not fit in a QR code")]
    TooLong,
}

/// How much of a code may be damaged or covered and still read. Higher levels make denser codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCorrection {
    /// About 7 %: the smallest code, for clean screens.
    Low,
    /// About 15 %: the usual choice for codes shown on a screen.
    Medium,
    /// About 25 %.
    Quartile,
    /// About 30 %: printed codes on walls and counters, which get scratched, creased and glared.
    High,
}

/// Draws `text` as a QR code at `level`: the one function every QR code of the SDK goes through.
pub fn render(text: &str, level: ErrorCorrection) -> Result<QrImage, QrError> {
    let level = match level {
        ErrorCorrection::Low => EcLevel::L,
        ErrorCorrection::Medium => EcLevel::M,
        ErrorCorrection::Quartile => EcLevel::Q,
        ErrorCorrection::High => EcLevel::H,
    };
    let code = QrCode::with_error_correction_level(text.as_bytes(), level)
        .map_err(|_| QrError::TooLong)?;
    Ok(QrImage {
        width: code.width(),
        modules: code
            .to_colors()
            .into_iter()
            .map(|c| c == Color::Dark)
            .collect(),
    })
}

/// A QR code as a square of dark and light modules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrImage {
    /// Modules per side (without the quiet zone).
    pub width: usize,
    /// Row by row, `true` for dark.
    pub modules: Vec<bool>,
}

impl QrImage {
    /// [`render`] at [`ErrorCorrection::Medium`], for codes shown on a screen.
    pub fn encode(text: &str) -> Result<Self, QrError> {
        render(text, ErrorCorrection::Medium)
    }

    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        self.modules[y * self.width + x]
    }

    /// A standalone SVG with a 4-module quiet zone, one `path` of unit squares: it scales to any
    /// size without blurring.
    pub fn to_svg(&self) -> String {
        const QUIET: usize = 4;
        let size = self.width + 2 * QUIET;
        let mut path = String::new();
        for y in 0..self.width {
            for x in 0..self.width {
                if self.is_dark(x, y) {
                    path.push_str(&format!("M{} {}h1v1h-1z", x + QUIET, y + QUIET));
                }
            }
        }
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" \
             shape-rendering=\"crispEdges\"><rect width=\"{size}\" height=\"{size}\" \
             fill=\"#fff\"/><path fill=\"#000\" d=\"{path}\"/></svg>"
        )
    }

    /// The code drawn with Unicode half blocks, two module rows per line, for a terminal.
    pub fn to_terminal(&self) -> String {
        let dark = |x: isize, y: isize| {
            x >= 0
                && y >= 0
                && (x as usize) < self.width
                && (y as usize) < self.width
                && self.is_dark(x as usize, y as usize)
        };
        let mut out = String::new();
        let edge = self.width as isize + 2;
        let mut y = -2;
        while y < edge {
            for x in -2..edge {
                // Light-on-dark terminals are common: draw light modules as blocks.
                out.push(match (!dark(x, y), !dark(x, y + 1)) {
                    (true, true) => '█',
                    (true, false) => '▀',
                    (false, true) => '▄',
                    (false, false) => ' ',
                });
            }
            out.push('\n');
            y += 2;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_has_its_finder_patterns_and_renders() {
        let image = QrImage::encode("ID1:HELLO").unwrap();
        assert_eq!(image.modules.len(), image.width * image.width);
        assert!(image.width >= 21);
        // Finder pattern corners are dark; the separator beside them is light.
        for (x, y) in [(0, 0), (image.width - 1, 0), (0, image.width - 1)] {
            assert!(image.is_dark(x, y), "({x}, {y})");
        }
        assert!(!image.is_dark(7, 7));
        let svg = image.to_svg();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(
            svg.matches("h1v1h-1z").count(),
            image.modules.iter().filter(|d| **d).count()
        );
        let terminal = image.to_terminal();
        assert_eq!(terminal.lines().count(), (image.width + 4).div_ceil(2));
    }

    #[test]
    fn higher_error_correction_makes_a_denser_code_of_the_same_text() {
        let text = "CK1:6BFOXN*TS0BI$ZDFRH5+FJ*A26:F";
        let widths: Vec<usize> = [
            ErrorCorrection::Low,
            ErrorCorrection::Medium,
            ErrorCorrection::Quartile,
            ErrorCorrection::High,
        ]
        .into_iter()
        .map(|level| render(text, level).unwrap().width)
        .collect();
        assert!(widths.windows(2).all(|w| w[0] <= w[1]), "{widths:?}");
        assert!(widths[0] < widths[3], "{widths:?}");
        assert_eq!(QrImage::encode(text), render(text, ErrorCorrection::Medium));
    }

    #[test]
    fn text_beyond_a_qr_codes_capacity_is_an_error() {
        assert_eq!(QrImage::encode(&"A".repeat(5_000)), Err(QrError::TooLong));
    }
}

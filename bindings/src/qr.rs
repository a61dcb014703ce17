//! The FFI of `citizen_core::qr`: drawing any text the SDK produced (a VietQR fee, a venue code
//! an agency tool minted) as a QR code.
//!
//! Owns: shape only; the drawing is `citizen_core::qr::render`, which every QR code of the SDK
//! goes through.

use crate::CitizenError;

/// How much of a code may be damaged or covered and still read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum QrErrorCorrection {
    /// About 7 %: the smallest code, for clean screens.
    Low,
    /// About 15 %: the usual choice for codes shown on a screen.
    Medium,
    /// About 25 %.
    Quartile,
    /// About 30 %: for printed codes that get scratched or creased.
    High,
}

/// A QR code, drawn two ways.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct QrCodeImage {
    /// A standalone SVG with a 4-module quiet zone.
    pub svg: String,
    /// Modules per side, without the quiet zone.
    pub width: u32,
    /// `width * width` modules, row by row, `true` for dark: for drawing natively.
    pub modules: Vec<bool>,
}

/// Draws `text` as a QR code at the chosen error correction. Fails with `InvalidInput` when the
/// text does not fit in a QR code.
#[uniffi::export]
pub fn render_qr(text: String, level: QrErrorCorrection) -> Result<QrCodeImage, CitizenError> {
    use citizen_core::qr::ErrorCorrection as Core;
    let level = match level {
        QrErrorCorrection::Low => Core::Low,
        QrErrorCorrection::Medium => Core::Medium,
        QrErrorCorrection::Quartile => Core::Quartile,
        QrErrorCorrection::High => Core::High,
    };
    let image = citizen_core::qr::render(&text, level).map_err(|_| CitizenError::InvalidInput {
        field: "text".into(),
        code: "too_long".into(),
        detail: "the text does not fit in a QR code".into(),
    })?;
    Ok(QrCodeImage {
        svg: image.to_svg(),
        width: image.width as u32,
        modules: image.modules,
    })
}

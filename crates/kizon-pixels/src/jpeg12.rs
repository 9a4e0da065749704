//! 12-bit JPEG extended (process 4) frames: not yet decoded.

use crate::{ImageInfo, PixelError};

pub(crate) fn frame(_data: &[u8], _info: &ImageInfo, _index: u32) -> Result<Vec<i64>, PixelError> {
    Err(PixelError::Unsupported(
        "12-bit JPEG extended (process 2/4)".into(),
    ))
}

use crate::PixelError;
pub fn perceptual_hash(_bytes: &[u8]) -> Result<u64, PixelError> { todo!() }
pub fn grey_first_frame() {}
pub fn phash_of_grey() {}

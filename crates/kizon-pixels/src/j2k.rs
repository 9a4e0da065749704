//! JPEG 2000 (ISO/IEC 15444-1) frames: 1.2.840.10008.1.2.4.90 (reversible 5/3 wavelet, lossless
//! when so encoded), .4.91 (irreversible 9/7 too) and HTJ2K (ISO/IEC 15444-15: .4.201–.4.203),
//! decoded by `openjp2`, a pure-Rust port of OpenJPEG.
//!
//! The image size (SIZ marker segment, 15444-1 A.5.1) is checked against the DICOM header
//! before any tile is decoded, so a corrupt size cannot make the decoder allocate more than the
//! header (already bounded by the compressed size) allows. OpenJPEG undoes the multiple
//! component transform (RCT/ICT, 15444-1 Annex G) itself: three-component output is RGB.

use std::ffi::c_void;

use openjp2::openjpeg::{
    OPJ_CODEC_J2K, OPJ_CODEC_JP2, opj_codec_t, opj_create_decompress, opj_decode,
    opj_destroy_codec, opj_dparameters_t, opj_end_decompress, opj_image_destroy, opj_image_t,
    opj_read_header, opj_setup_decoder, opj_stream_default_create, opj_stream_destroy,
    opj_stream_set_read_function, opj_stream_set_seek_function, opj_stream_set_skip_function,
    opj_stream_set_user_data, opj_stream_set_user_data_length, opj_stream_t,
};

use crate::{ImageInfo, PixelError, interpret};

fn corrupt(frame: u32, message: impl Into<String>) -> PixelError {
    PixelError::Corrupt {
        frame,
        codec: "JPEG 2000",
        message: message.into(),
    }
}

/// The compressed bytes and a read position, owned by the OpenJPEG stream.
struct Source {
    bytes: Vec<u8>,
    at: usize,
}

extern "C" fn source_free(data: *mut c_void) {
    // SAFETY: `data` is the Box<Source> handed to opj_stream_set_user_data, freed once here.
    drop(unsafe { Box::from_raw(data as *mut Source) });
}

extern "C" fn source_read(buffer: *mut c_void, n: usize, data: *mut c_void) -> usize {
    if buffer.is_null() || data.is_null() || n == 0 {
        return usize::MAX;
    }
    // SAFETY: `data` is our Source; `buffer` holds `n` writable bytes (OpenJPEG stream contract).
    let source = unsafe { &mut *(data as *mut Source) };
    let left = source.bytes.len().saturating_sub(source.at);
    if left == 0 {
        return usize::MAX; // end of stream
    }
    let count = left.min(n);
    let out = unsafe { std::slice::from_raw_parts_mut(buffer as *mut u8, count) };
    out.copy_from_slice(&source.bytes[source.at..source.at + count]);
    source.at += count;
    count
}

extern "C" fn source_skip(n: i64, data: *mut c_void) -> i64 {
    // SAFETY: `data` is our Source.
    let source = unsafe { &mut *(data as *mut Source) };
    if n < 0 {
        return -1;
    }
    let target = (source.at as u64)
        .saturating_add(n as u64)
        .min(source.bytes.len() as u64);
    let skipped = target - source.at as u64;
    source.at = target as usize;
    skipped as i64
}

extern "C" fn source_seek(to: i64, data: *mut c_void) -> i32 {
    // SAFETY: `data` is our Source.
    let source = unsafe { &mut *(data as *mut Source) };
    if to < 0 || to as u64 > source.bytes.len() as u64 {
        return 0;
    }
    source.at = to as usize;
    1
}

/// Frees the codec, stream and image however decoding ends.
struct Session {
    codec: *mut opj_codec_t,
    stream: *mut opj_stream_t,
    image: *mut opj_image_t,
}

impl Drop for Session {
    fn drop(&mut self) {
        // SAFETY: each pointer was created by OpenJPEG and is destroyed once, here.
        unsafe {
            if !self.codec.is_null() {
                opj_destroy_codec(self.codec);
            }
            if !self.stream.is_null() {
                opj_stream_destroy(self.stream);
            }
        }
        if !self.image.is_null() {
            opj_image_destroy(self.image);
        }
    }
}

/// The image and tile sizes of the SIZ marker segment (15444-1 A.5.1) of a codestream.
fn siz(data: &[u8]) -> Option<(u64, u64, u64, u64, u16)> {
    let at = if data.starts_with(&[0xFF, 0x4F, 0xFF, 0x51]) {
        4
    } else {
        // A JP2 file: find the contiguous codestream box's SOC SIZ.
        data.windows(4)
            .position(|w| w == [0xFF, 0x4F, 0xFF, 0x51])?
            + 4
    };
    let be32 = |i: usize| -> Option<u64> {
        Some(u64::from(u32::from_be_bytes(
            data.get(i..i + 4)?.try_into().ok()?,
        )))
    };
    // Lsiz(2) Rsiz(2) Xsiz Ysiz XOsiz YOsiz XTsiz YTsiz XTOsiz YTOsiz Csiz(2)
    let b = at + 4;
    let (x, y, xo, yo, xt, yt) = (
        be32(b)?,
        be32(b + 4)?,
        be32(b + 8)?,
        be32(b + 12)?,
        be32(b + 16)?,
        be32(b + 20)?,
    );
    let components = u16::from_be_bytes(data.get(b + 32..b + 34)?.try_into().ok()?);
    let (width, height) = (x.checked_sub(xo)?, y.checked_sub(yo)?);
    let tiles = x.div_ceil(xt.max(1)) * y.div_ceil(yt.max(1));
    Some((width, height, tiles, xt.max(1) * yt.max(1), components))
}

/// Decodes one JPEG 2000 frame into pixel-interleaved values.
pub(crate) fn frame(data: &[u8], info: &ImageInfo, index: u32) -> Result<Vec<i64>, PixelError> {
    decode(data, info, index, 0).map(|(_, _, values)| values)
}

/// Decodes one JPEG 2000 frame at resolution reduced by 2^`reduce` in each dimension (the
/// codestream's own multi-resolution structure, 15444-1 B.5: the lowest-resolution subbands,
/// with the finer ones never decoded): (width, height, pixel-interleaved values).
pub(crate) fn decode(
    data: &[u8],
    info: &ImageInfo,
    index: u32,
    reduce: u32,
) -> Result<(usize, usize, Vec<i64>), PixelError> {
    let (width, height, tiles, _, components) =
        siz(data).ok_or_else(|| corrupt(index, "no SIZ marker segment"))?;
    if width != u64::from(info.columns) || height != u64::from(info.rows) {
        return Err(PixelError::Inconsistent(format!(
            "frame {index} is {width}×{height} in the JPEG 2000 data but {}×{} in the header",
            info.columns, info.rows
        )));
    }
    if u32::from(components) != info.samples_per_pixel {
        return Err(PixelError::Inconsistent(format!(
            "frame {index} has {components} components in the JPEG 2000 data but Samples per Pixel is {}",
            info.samples_per_pixel
        )));
    }
    // Every tile costs OpenJPEG bookkeeping; a real codestream has few tiles per byte.
    if tiles > 1 + data.len() as u64 {
        return Err(corrupt(
            index,
            format!("{tiles} tiles in {} bytes", data.len()),
        ));
    }
    let format = if data.starts_with(&[0xFF, 0x4F]) {
        OPJ_CODEC_J2K
    } else {
        OPJ_CODEC_JP2
    };
    let source = Box::new(Source {
        bytes: data.to_vec(),
        at: 0,
    });
    let length = source.bytes.len() as u64;
    let mut session = Session {
        codec: std::ptr::null_mut(),
        stream: std::ptr::null_mut(),
        image: std::ptr::null_mut(),
    };
    // SAFETY: the OpenJPEG C API as its own tests use it; every object is owned by `session`.
    unsafe {
        session.stream = opj_stream_default_create(1);
        if session.stream.is_null() {
            return Err(corrupt(index, "could not create a stream"));
        }
        opj_stream_set_read_function(session.stream, Some(source_read));
        opj_stream_set_skip_function(session.stream, Some(source_skip));
        opj_stream_set_seek_function(session.stream, Some(source_seek));
        opj_stream_set_user_data_length(session.stream, length);
        opj_stream_set_user_data(
            session.stream,
            Box::into_raw(source) as *mut c_void,
            Some(source_free),
        );
        session.codec = opj_create_decompress(format);
        if session.codec.is_null() {
            return Err(corrupt(index, "could not create a decoder"));
        }
        let mut parameters = opj_dparameters_t {
            cp_reduce: reduce,
            ..Default::default()
        };
        if opj_setup_decoder(session.codec, &mut parameters) == 0 {
            return Err(corrupt(index, "could not set up the decoder"));
        }
        if opj_read_header(session.stream, session.codec, &mut session.image) == 0
            || session.image.is_null()
        {
            return Err(corrupt(index, "the main header cannot be read"));
        }
        if opj_decode(session.codec, session.stream, session.image) == 0 {
            return Err(corrupt(index, "the tiles cannot be decoded"));
        }
        if opj_end_decompress(session.codec, session.stream) == 0 {
            return Err(corrupt(index, "the codestream does not end properly"));
        }
    }
    // SAFETY: decoding succeeded, so the image is valid until `session` drops.
    let image = unsafe { &*session.image };
    let comps = image
        .comps()
        .ok_or_else(|| corrupt(index, "no components decoded"))?;
    let spp = info.samples_per_pixel as usize;
    if comps.len() != spp {
        return Err(corrupt(
            index,
            format!("{} components decoded, expected {spp}", comps.len()),
        ));
    }
    let (width, height) = (
        (info.columns as usize).div_ceil(1 << reduce),
        (info.rows as usize).div_ceil(1 << reduce),
    );
    let pixel_count = width * height;
    let mut planes: Vec<&[i32]> = Vec::with_capacity(spp);
    for (c, comp) in comps.iter().enumerate() {
        let data = comp
            .data()
            .ok_or_else(|| corrupt(index, format!("component {c} has no data")))?;
        if comp.w as usize != width || comp.h as usize != height || data.len() < pixel_count {
            return Err(PixelError::Unsupported(format!(
                "frame {index}: JPEG 2000 component {c} is {}×{} (subsampled components are not decoded)",
                comp.w, comp.h
            )));
        }
        planes.push(&data[..pixel_count]);
    }
    let (bs, signed) = (info.bits_stored, info.signed);
    let mut out = Vec::with_capacity(pixel_count * spp);
    for p in 0..pixel_count {
        for plane in &planes {
            out.push(interpret(plane[p] as u32 as u64, bs, signed));
        }
    }
    Ok((width, height, out))
}

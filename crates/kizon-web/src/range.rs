//! Single byte ranges of a response (RFC 9110 §14): what a video player asks for when it seeks.
//! Several ranges in one request are answered with the whole body (allowed: a server may
//! ignore a Range header), so no multipart bodies are ever built.

/// What to send of a body of `len` bytes for a request's `Range` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// 200 with the whole body (no range asked, several, or one not understood).
    Whole,
    /// 206 with bytes `start..=end`.
    Bytes { start: usize, end: usize },
    /// 416: the range lies past the body.
    Unsatisfiable,
}

/// Reads a `Range` header value (`bytes=a-b`, `bytes=a-`, `bytes=-n`) against `len`.
pub fn part(header: Option<&str>, len: usize) -> Part {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Part::Whole;
    };
    if spec.contains(',') {
        return Part::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Part::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    let number = |t: &str| t.parse::<usize>().ok();
    if first.is_empty() {
        // A suffix: the last n bytes.
        return match number(last) {
            Some(n) if n > 0 && len > 0 => Part::Bytes {
                start: len.saturating_sub(n),
                end: len - 1,
            },
            Some(_) => Part::Unsatisfiable,
            None => Part::Whole,
        };
    }
    let Some(start) = number(first) else {
        return Part::Whole;
    };
    let end = if last.is_empty() {
        usize::MAX
    } else {
        match number(last) {
            Some(end) if end >= start => end,
            _ => return Part::Whole,
        }
    };
    if start >= len {
        return Part::Unsatisfiable;
    }
    Part::Bytes {
        start,
        end: end.min(len - 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_as_players_ask_for_them() {
        assert_eq!(part(None, 100), Part::Whole);
        assert_eq!(
            part(Some("bytes=0-"), 100),
            Part::Bytes { start: 0, end: 99 }
        );
        assert_eq!(
            part(Some("bytes=10-19"), 100),
            Part::Bytes { start: 10, end: 19 }
        );
        assert_eq!(
            part(Some("bytes=90-200"), 100),
            Part::Bytes { start: 90, end: 99 },
            "an end past the body is the body's end"
        );
        assert_eq!(
            part(Some("bytes=-30"), 100),
            Part::Bytes { start: 70, end: 99 }
        );
        assert_eq!(
            part(Some("bytes=-300"), 100),
            Part::Bytes { start: 0, end: 99 }
        );
    }

    #[test]
    fn ranges_past_the_body_or_not_understood() {
        assert_eq!(part(Some("bytes=100-"), 100), Part::Unsatisfiable);
        assert_eq!(part(Some("bytes=-0"), 100), Part::Unsatisfiable);
        assert_eq!(part(Some("bytes=0-"), 0), Part::Unsatisfiable);
        for odd in [
            "bytes=0-1,5-6",
            "bytes=a-b",
            "bytes=5-2",
            "items=0-1",
            "bytes=-",
            "bytes=7",
        ] {
            assert_eq!(part(Some(odd), 100), Part::Whole, "{odd}");
        }
    }
}

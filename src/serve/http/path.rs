//! Request paths in both directions: a request target's path decoded into a path of the
//! site, refused when it could reach outside the site or mean two things, and a site
//! path encoded again for a `Location` header. Knows nothing of the files served, of
//! hosts or of hyper: routing decides what a clean path names.

use hyper::header::HeaderValue;

/// The request path decoded once, or `None` when it could reach outside the site or
/// is ambiguous: `.`/`..` segments, empty segments, backslashes, control characters,
/// an encoded `/`, or anything still percent-encoded after decoding (double encoding).
pub(super) fn clean_path(raw: &str) -> Option<String> {
    if !raw.starts_with('/') {
        return None;
    }
    let decoded = percent_decode(raw)?;
    if decoded.contains(['\\', '%']) || decoded.chars().any(char::is_control) {
        return None;
    }
    if raw.to_ascii_lowercase().contains("%2f") {
        return None;
    }
    let segments: Vec<&str> = decoded[1..].split('/').collect();
    let last = segments.len() - 1;
    for (index, segment) in segments.iter().enumerate() {
        if *segment == "." || *segment == ".." || (segment.is_empty() && index != last) {
            return None;
        }
    }
    Some(decoded)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = bytes.get(index + 1..index + 3)?;
            let value = u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
            decoded.push(value);
            index += 3;
        } else {
            decoded.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(decoded).ok()
}

/// A decoded path as a `Location` header: percent-encoded again where a header or a URL
/// path cannot hold it as it is (`/zh/搜/` → `/zh/%E6%90%9C/`, `?` → `%3F`).
pub(super) fn location(path: &str) -> HeaderValue {
    let mut encoded = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_graphic() && !b"?#\"<>\\^`{|}".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    // Only visible ASCII is left, which a header value always accepts; `/` otherwise.
    HeaderValue::from_str(&encoded).unwrap_or_else(|_| HeaderValue::from_static("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_keep_their_target_valid_in_a_header() {
        assert_eq!(location("/en/"), "/en/");
        assert_eq!(location("/zh/搜/"), "/zh/%E6%90%9C/");
        assert_eq!(location("/a?b#c d/"), "/a%3Fb%23c%20d/");
    }

    #[test]
    fn paths_that_could_leave_the_site_are_refused() {
        assert_eq!(clean_path("/en/objective-14/").as_deref(), Some("/en/objective-14/"));
        assert_eq!(clean_path("/zh/%E6%90%9C/").as_deref(), Some("/zh/搜/"));
        for bad in [
            "/../etc/passwd",
            "/en/../../etc/passwd",
            "/%2e%2e/etc/passwd",
            "/%2E%2E%2Fetc%2Fpasswd",
            "/%252e%252e/etc/passwd",
            "/..%5c..%5cetc/passwd",
            "/..\\etc\\passwd",
            "/en//index.html",
            "/./index.html",
            "/a%00b",
            "/%zz",
            "en/index.html",
            "http://evil.example/en/",
        ] {
            assert_eq!(clean_path(bad), None, "{bad}");
        }
    }
}

//! Escaping text for HTML and XML: the one escaper the Markdown renderer, the templates'
//! autoescape and the sitemap share, so that the same text is escaped the same way
//! everywhere. Only escaping: it does not parse, sanitize or judge markup (the sanitizer
//! is `markdown::sanitize`).

/// `text` with `&`, `<`, `>`, `"` and `'` written as entities, safe in element content
/// and in quoted attribute values alike.
pub(crate) fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    // The characters to escape are ASCII, which never occurs inside a multi-byte UTF-8
    // sequence: copy the stretches between them whole.
    let mut start = 0;
    for (index, byte) in text.bytes().enumerate() {
        let entity = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        escaped.push_str(&text[start..index]);
        escaped.push_str(entity);
        start = index + 1;
    }
    escaped.push_str(&text[start..]);
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_the_five_characters_and_keeps_the_rest() {
        assert_eq!(escape_html("a<b>&\"c'd 中文"), "a&lt;b&gt;&amp;&quot;c&#39;d 中文");
    }
}

//! The security boundary for raw HTML and links written in Markdown: the allowlist they
//! go through (ammonia), which events need it, what the removed markup was (for a warning
//! that says where), and the nesting limit beyond which sanitizing would stall. Judges
//! and cleans HTML only: deciding when to sanitize (`unsafe_html = true` trusts raw HTML)
//! is the renderer's, and it never escapes text (that is `crate::html`).

use pulldown_cmark::{Event, Tag};

use super::events::Spanned;

/// Something the HTML sanitizer removed from a page, and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sanitized {
    /// The byte offset in the Markdown.
    pub offset: usize,
    pub what: &'static str,
}

/// How deep raw HTML may nest when it is sanitized: the HTML parser's scope checks grow
/// with depth, so absurd nesting would stall the build for minutes.
pub(super) const MAX_RAW_HTML_DEPTH: usize = 512;

/// The allowlist raw HTML goes through: ammonia's defaults (formatting, tables, links
/// and images with http(s), mailto and tel URLs; no scripts, styles, frames, forms or
/// event handlers), plus the attributes the renderer itself writes.
static SANITIZER: std::sync::LazyLock<ammonia::Builder<'static>> = std::sync::LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        .add_generic_attributes(["id", "class", "aria-label", "aria-hidden", "dir", "lang"])
        .link_rel(None)
        .add_tag_attributes("a", ["rel"])
        .add_tag_attributes("th", ["style"])
        .add_tag_attributes("td", ["style"])
        .filter_style_properties(["text-align"].into())
        .url_schemes(["http", "https", "mailto", "tel"].into());
    builder
});

pub(super) fn sanitize_html(html: &str) -> String {
    SANITIZER.clean(html).to_string()
}

/// Where raw HTML first opens more than [`MAX_RAW_HTML_DEPTH`] nested elements, if it does
/// (counting start and end tags, as written, across the page's raw HTML).
pub(super) fn raw_html_too_deep(events: &[Spanned]) -> Option<usize> {
    const VOID: [&str; 14] =
        ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr", "param"];
    let mut depth = 0usize;
    for (event, range) in events {
        let (Event::Html(html) | Event::InlineHtml(html)) = event else { continue };
        for (at, _) in html.match_indices('<') {
            let rest = &html[at + 1..];
            if rest.starts_with('/') {
                depth = depth.saturating_sub(1);
                continue;
            }
            let name_length = rest.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len());
            let name = rest[..name_length].to_ascii_lowercase();
            let self_closing = rest.find('>').is_some_and(|end| rest[..end].ends_with('/'));
            if name_length == 0 || self_closing || VOID.contains(&name.as_str()) {
                continue;
            }
            depth += 1;
            if depth > MAX_RAW_HTML_DEPTH {
                return Some(range.start + at.min(range.len()));
            }
        }
    }
    None
}

/// Whether an event is raw HTML or a link the sanitizer must see.
pub(super) fn needs_sanitizing(event: &Event) -> bool {
    match event {
        Event::Html(_) | Event::InlineHtml(_) => true,
        Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => !is_safe_url(dest_url),
        _ => false,
    }
}

/// A description of what in a raw HTML or link event could run a script.
pub(super) fn unsafe_markup((event, range): &Spanned) -> Option<Sanitized> {
    let what = match event {
        Event::Html(html) | Event::InlineHtml(html) => describe_unsafe_html(html)?,
        Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) if !is_safe_url(dest_url) => {
            "a link whose scheme is not http, https, mailto or tel (such as javascript:)"
        }
        _ => return None,
    };
    Some(Sanitized { offset: range.start, what })
}

fn describe_unsafe_html(html: &str) -> Option<&'static str> {
    let lower = html.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| lower.contains(n));
    if has(&["<script", "</script"]) {
        Some("a <script> element")
    } else if has(&["<style", "<iframe", "<object", "<embed", "<form", "<frame", "<base", "<meta", "<link"]) {
        Some("an element outside the allowlist (style, iframe, object, embed, form, frame, base, meta or link)")
    } else if has_event_handler(&lower) {
        Some("an event handler attribute (on...=)")
    } else if has(&["javascript:", "vbscript:", "data:"]) {
        Some("a URL whose scheme is not http, https, mailto or tel (such as javascript:)")
    } else {
        None
    }
}

/// Whether lower-case HTML has an attribute such as ` onclick=` or `/onload =`.
fn has_event_handler(lower: &str) -> bool {
    let bytes = lower.as_bytes();
    lower.match_indices("on").any(|(at, _)| {
        let before = at.checked_sub(1).map(|i| bytes[i]);
        let separated = matches!(before, Some(b' ' | b'\t' | b'\n' | b'/' | b'"' | b'\''));
        let name_end = lower[at + 2..].find(|c: char| !c.is_ascii_alphabetic()).map_or(lower.len(), |n| at + 2 + n);
        separated && name_end > at + 2 && lower[name_end..].trim_start().starts_with('=')
    })
}

/// Relative URLs and http(s), mailto and tel are safe; any other scheme (javascript:,
/// vbscript:, data:) is not. Browsers ignore tabs, newlines and leading spaces in a
/// scheme, so those are dropped before looking.
pub(crate) fn is_safe_url(url: &str) -> bool {
    let cleaned: String = url.chars().filter(|c| !c.is_ascii_whitespace() && !c.is_ascii_control()).collect();
    let scheme_end = cleaned.find(':');
    let path_start = cleaned.find(['/', '?', '#']);
    match (scheme_end, path_start) {
        (Some(colon), Some(slash)) if slash < colon => true,
        (Some(colon), _) => ["http", "https", "mailto", "tel"].iter().any(|s| cleaned[..colon].eq_ignore_ascii_case(s)),
        (None, _) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::markdown::tests::{render_with, strings};
    use crate::markdown::{MarkdownContext, MarkdownError, render, render_inline};

    #[test]
    fn raw_html_goes_through_the_allowlist_unless_trusted() {
        let md = "Text <abbr title=\"Global Compact\">GCM</abbr> <b onclick=\"steal()\">bold</b>.\n\n\
                  <script>\nalert(1)\n</script>\n\n[click](javascript:alert(2)) \
                  [ok](https://un.org/) [tab](java\tscript:alert(3))\n\n<img src=x onerror=alert(4)>\n\n\
                  Note[^n].\n\n[^n]: <a href=\"javascript:alert(5)\">source</a>\n";
        let rendered = render_with(md, "/").unwrap();
        let all = format!("{}{}", rendered.html, rendered.footnotes[0].html);
        for bad in ["<script", "alert(1)", "onclick", "javascript:", "onerror"] {
            assert!(!all.contains(bad), "{bad} in {all}");
        }
        for good in
            ["<abbr title=\"Global Compact\">GCM</abbr>", "<b>bold</b>", "href=\"https://un.org/\"", "id=\"fnref-1\""]
        {
            assert!(all.contains(good), "{good} missing from {all}");
        }
        let what: Vec<&str> = rendered.sanitized.iter().map(|s| s.what).collect();
        assert_eq!(what.len(), 6, "{what:?}");
        assert_eq!(&md[rendered.sanitized[0].offset..][..2], "<b");

        let strings = strings();
        let trusted = MarkdownContext {
            strings: &strings,
            base_path: "/",
            site_origin: "https://example.org",
            reserved_ids: &[],
            block_prefix: "p-t",
            trust_raw_html: true,
        };
        let html = render(md, &trusted).unwrap().html;
        assert!(html.contains("<script>\nalert(1)\n</script>") && html.contains("onclick"), "{html}");
        assert_eq!(render_inline("Is <i>it</i> <b onmouseover=\"x()\">so</b>?", false), "Is <i>it</i> <b>so</b>?");
        assert!(render_inline("<b onmouseover=\"x()\">so</b>", true).contains("onmouseover"));
    }

    #[test]
    fn pages_without_raw_html_are_not_reserialized() {
        let md = "A line  \nbreak and a [link](/en/) & \"quotes\".\n";
        let rendered = render_with(md, "/").unwrap();
        assert!(rendered.html.contains("<br />"), "{}", rendered.html);
        assert!(rendered.sanitized.is_empty());
    }

    #[test]
    fn raw_html_is_sanitized_up_to_a_depth_limit() {
        let deep = |n: usize| format!("Text\n\n{}x{}\n", "<div onclick=\"a()\">".repeat(n), "</div>".repeat(n));
        let html = render_with(&deep(MAX_RAW_HTML_DEPTH), "/").unwrap().html;
        assert!(!html.contains("onclick") && html.matches("<div>").count() == MAX_RAW_HTML_DEPTH);
        let error = render_with(&deep(100_000), "/").unwrap_err();
        assert_eq!(error, MarkdownError::RawHtmlTooDeep { offset: 6 + MAX_RAW_HTML_DEPTH * 19 });
        let inline = format!("{}x{}\n", "<span><br>".repeat(600), "</span>".repeat(600));
        assert!(render_with(&inline, "/").is_err(), "inline elements count too; void ones do not");
    }
}

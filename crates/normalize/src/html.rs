//! HTML and XHTML bodies to blocks of text.
//!
//! A small tag-skipping state machine rather than an HTML parser: agency
//! bodies are simple (`<p>`, `<br/>`, lists, headings), and what matters is
//! where paragraphs break and which elements carry no body text. Entities are
//! left for [`crate::text::clean`], so that an escaped `&lt;` in the text is
//! never taken for a tag.

/// Elements whose boundaries (opening or closing) end a paragraph: HTML's
/// blocks, and NITF's (`block`, `hl1`, `hl2`, `byline`, `dateline`,
/// `abstract`, `tagline`), so that the lines agencies write inside a body
/// never glue to the next word (`FörsvarTT`).
const BLOCK: &[&str] = &[
    "abstract",
    "address",
    "article",
    "aside",
    "block",
    "blockquote",
    "body",
    "br",
    "byline",
    "dateline",
    "dd",
    "div",
    "dl",
    "dt",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hl1",
    "hl2",
    "hr",
    "html",
    "li",
    "main",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tagline",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
];

/// Elements whose content is not body text: code, styling, document
/// metadata (the `<title>` repeats the headline), and figures and NITF
/// media, whose captions and photo credits describe a picture, not the
/// story.
const DROPPED: &[&str] = &[
    "figcaption",
    "figure",
    "head",
    "iframe",
    "media",
    "media-caption",
    "media-producer",
    "noscript",
    "object",
    "script",
    "style",
    "svg",
    "template",
    "title",
];

/// Inline elements that separate words (a NITF byline's title after the
/// name: `By X<byttl>AP Writer</byttl>`): a space is put at their boundary.
const SPACED: &[&str] = &["byttl", "person", "location", "story.date", "org"];

fn is_one_of(name: &str, list: &[&str]) -> bool {
    list.iter()
        .any(|candidate| candidate.eq_ignore_ascii_case(name))
}

/// Splits an HTML fragment into the raw (still entity-encoded) text of its
/// blocks, in document order. Blocks may be blank; the caller cleans them.
///
/// A CDATA section that holds markup (`<![CDATA[<p>…</p>]]>`, as agencies
/// wrap HTML in XML) is read as that markup: taken as text, its tags would
/// end up in the story. Other CDATA sections are text.
pub(crate) fn blocks(html: &str) -> Vec<String> {
    match splice_markup_cdata(html) {
        Some(spliced) => scan(&spliced),
        None => scan(html),
    }
}

/// `html` with each CDATA section that holds markup replaced by its
/// content; `None` when there is none (the common case, left unallocated).
fn splice_markup_cdata(html: &str) -> Option<String> {
    const OPEN: &str = "<![CDATA[";
    const CLOSE: &str = "]]>";
    let mut out: Option<String> = None;
    // Where the text not yet copied to `out` starts, and where to look next.
    let (mut copied, mut from) = (0, 0);
    while let Some(at) = html[from..].find(OPEN).map(|at| from + at) {
        let content_start = at + OPEN.len();
        let (content_end, end) = match html[content_start..].find(CLOSE) {
            Some(close) => (content_start + close, content_start + close + CLOSE.len()),
            None => (html.len(), html.len()),
        };
        let content = &html[content_start..content_end];
        if looks_like_markup(content) {
            let spliced = out.get_or_insert_with(|| String::with_capacity(html.len()));
            spliced.push_str(&html[copied..at]);
            spliced.push_str(content);
            copied = end;
        }
        from = end;
    }
    let mut spliced = out?;
    spliced.push_str(&html[copied..]);
    Some(spliced)
}

/// Whether a CDATA section's text is markup: it has a tag of a block
/// element (`<p>`, `</p>`, `<br/>`, `<div class=…>`). A lone `<` or an
/// unknown `<name>` is text, as CDATA is by default.
fn looks_like_markup(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().any(|(at, &b)| {
        if b != b'<' {
            return false;
        }
        let mut start = at + 1;
        if bytes.get(start) == Some(&b'/') {
            start += 1;
        }
        let end = bytes[start.min(bytes.len())..]
            .iter()
            .position(|b| !b.is_ascii_alphanumeric())
            .map_or(bytes.len(), |n| start + n);
        end > start
            && matches!(
                bytes.get(end),
                Some(b'>' | b'/' | b' ' | b'\t' | b'\r' | b'\n')
            )
            && text
                .get(start..end)
                .is_some_and(|name| is_one_of(name, BLOCK))
    })
}

fn scan(html: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current = String::new();
    let bytes = html.as_bytes();
    let mut i = 0;
    let mut text_start = 0;
    // While inside a dropped element: its name and nesting depth.
    let mut dropping: Option<(&str, usize)> = None;

    while i < bytes.len() {
        if bytes[i] != b'<' {
            i += 1;
            continue;
        }
        let Some(tag) = parse_tag(html, i) else {
            // A lone `<` (as in "a < b"): text.
            i += 1;
            continue;
        };
        if dropping.is_none() {
            current.push_str(&html[text_start..i]);
        }
        i = tag.end;
        text_start = i;
        match tag.kind {
            TagKind::Comment => {}
            TagKind::Cdata(content) => {
                if dropping.is_none() {
                    current.push_str(content);
                }
            }
            TagKind::Element {
                name,
                closing,
                self_closing,
                caption,
            } => {
                if let Some((dropped, depth)) = dropping.as_mut() {
                    if name.eq_ignore_ascii_case(dropped) && !self_closing {
                        if closing {
                            *depth -= 1;
                            if *depth == 0 {
                                dropping = None;
                            }
                        } else {
                            *depth += 1;
                        }
                    }
                } else if is_one_of(name, DROPPED) || caption {
                    if is_one_of(name, BLOCK) && !current.is_empty() {
                        blocks.push(std::mem::take(&mut current));
                    }
                    if !closing && !self_closing {
                        dropping = Some((name, 1));
                    }
                } else if is_one_of(name, BLOCK) && !current.is_empty() {
                    blocks.push(std::mem::take(&mut current));
                } else if is_one_of(name, SPACED) && !current.ends_with(char::is_whitespace) {
                    current.push(' ');
                }
            }
        }
    }
    if dropping.is_none() {
        current.push_str(&html[text_start..]);
    }
    if !current.is_empty() {
        blocks.push(current);
    }
    blocks
}

/// Whether a tag's attributes give it a caption or credit class
/// (`class="caption"`, `class="photo-credit"`, `class="bildunterschrift"`).
fn is_caption_class(tag: &str) -> bool {
    let lower = tag.to_ascii_lowercase();
    let Some(at) = lower.find("class=") else {
        return false;
    };
    let value = lower[at + 6..].trim_start_matches(['"', '\'']);
    let value = value.split(['"', '\'', '>']).next().unwrap_or_default();
    value.split_whitespace().any(|class| {
        [
            "caption",
            "credit",
            "bildunterschrift",
            "legende",
            "légende",
        ]
        .iter()
        .any(|c| class.contains(c))
    })
}

enum TagKind<'a> {
    Comment,
    Cdata(&'a str),
    Element {
        name: &'a str,
        closing: bool,
        self_closing: bool,
        /// A `class` that marks a caption or a credit (`<p class="caption">`).
        caption: bool,
    },
}

struct Tag<'a> {
    kind: TagKind<'a>,
    /// Byte offset just past the tag.
    end: usize,
}

/// Reads the markup starting at `start` (a `<`). Returns None when it is not
/// markup, so that the `<` is kept as text.
fn parse_tag(html: &str, start: usize) -> Option<Tag<'_>> {
    let rest = &html[start..];
    if let Some(after) = rest.strip_prefix("<!--") {
        let end = after
            .find("-->")
            .map_or(html.len(), |at| start + 4 + at + 3);
        return Some(Tag {
            kind: TagKind::Comment,
            end,
        });
    }
    if let Some(after) = rest.strip_prefix("<![CDATA[") {
        let (content, end) = match after.find("]]>") {
            Some(at) => (&after[..at], start + 9 + at + 3),
            None => (after, html.len()),
        };
        return Some(Tag {
            kind: TagKind::Cdata(content),
            end,
        });
    }
    let bytes = rest.as_bytes();
    let mut i = 1;
    let closing = bytes.get(i) == Some(&b'/');
    if closing {
        i += 1;
    }
    // Doctype and processing instructions: skipped like comments.
    let declaration = matches!(bytes.get(i), Some(b'!' | b'?'));
    if !declaration && !bytes.get(i).is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    let name_start = i;
    while bytes
        .get(i)
        .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b':' | b'!' | b'?'))
    {
        i += 1;
    }
    let name = &rest[name_start..i];
    // Find the closing `>`, ignoring any inside quoted attribute values.
    let mut quote: Option<u8> = None;
    while let Some(&b) = bytes.get(i) {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => break,
            None => {}
        }
        i += 1;
    }
    let end = (start + i + 1).min(html.len());
    if declaration {
        return Some(Tag {
            kind: TagKind::Comment,
            end,
        });
    }
    let self_closing = i > 0 && bytes.get(i - 1) == Some(&b'/');
    let caption = !closing && is_caption_class(&rest[name_start..i.min(rest.len())]);
    // Namespaced XHTML (`<html:p>`) counts by its local name.
    let name = name.rsplit(':').next().unwrap_or(name);
    Some(Tag {
        kind: TagKind::Element {
            name,
            closing,
            self_closing,
            caption,
        },
        end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(html: &str) -> Vec<String> {
        blocks(html)
            .into_iter()
            .map(|block| block.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|block| !block.is_empty())
            .collect()
    }

    #[test]
    fn block_elements_break_paragraphs() {
        // The start of the dpa example body.
        let html = "<section class=\"main\"><p>Für Lucien Favre war es «der größte Skandal im Fußball seit Jahren».</p><p>Auf Hinweis seines Video-Assistenten</p></section>";
        assert_eq!(
            texts(html),
            [
                "Für Lucien Favre war es «der größte Skandal im Fußball seit Jahren».",
                "Auf Hinweis seines Video-Assistenten"
            ]
        );
        assert_eq!(
            texts("one<br/>two<BR>three<li>four</li>"),
            ["one", "two", "three", "four"]
        );
        assert_eq!(
            texts("<h2>Title</h2>text with <b>bold</b> and <a href=\"x>y\">link</a>"),
            ["Title", "text with bold and link"]
        );
    }

    #[test]
    fn drops_scripts_styles_titles_and_figures() {
        let html = "<html><head><title>Headline</title><style>p{}</style></head><body><script>var a = '<p>';</script><figure><img src=\"x.jpg\"/><figcaption>Caption</figcaption></figure><p>Body</p><!-- <p>comment</p> --></body></html>";
        assert_eq!(texts(html), ["Body"]);
    }

    #[test]
    fn agency_blocks_and_media_do_not_glue_or_leak() {
        let html = "<block><hl2>Försvar</hl2><p>Pandemin stoppade övningen.</p><media><media-reference source=\"x.jpg\"/><media-caption>Soldater. Foto: Arkiv</media-caption></media></block><byline>By BERNARD CONDON<byttl>AP Business Writer</byttl></byline>";
        assert_eq!(
            texts(html),
            [
                "Försvar",
                "Pandemin stoppade övningen.",
                "By BERNARD CONDON AP Business Writer"
            ]
        );
        assert_eq!(texts("<x:p>one</x:p><x:p>two</x:p>"), ["one", "two"]);
        assert_eq!(
            texts("<p>Story.</p><p class=\"photo-caption\">Firefighters at work. <span>Photo: Jo Ray</span></p><div class='credit'>Jo Ray</div><p>End.</p>"),
            ["Story.", "End."]
        );
    }

    #[test]
    fn cdata_with_markup_is_read_as_markup() {
        // NITF `body.content` in CDATA: the tags used to end up in the text.
        assert_eq!(
            texts("<![CDATA[<p>AT&amp;T said &lt;b&gt; is literal.</p><p>Second.</p>]]>"),
            ["AT&amp;T said &lt;b&gt; is literal.", "Second."]
        );
        // Spliced where it stands: block boundaries around it still hold,
        // and dropped elements inside it are dropped.
        assert_eq!(
            texts("<p>Intro</p><![CDATA[<P>One<BR/>two</P><script>x</script>]]><p>End</p><![CDATA[x & y]]>"),
            ["Intro", "One", "two", "End", "x & y"]
        );
        // Text that only looks like it (a comparison, an unclosed section)
        // stays text.
        assert_eq!(texts("<p><![CDATA[a <b and <c>]]></p>"), ["a <b and <c>"]);
        assert_eq!(texts("<p><![CDATA[x < y"), ["x < y"]);
        assert_eq!(
            texts("<p><![CDATA[plain]]></p><![CDATA[<p>m</p>"),
            ["plain", "m"]
        );
    }

    #[test]
    fn keeps_entities_and_lone_angle_brackets_as_text() {
        assert_eq!(texts("<p>a &lt;b&gt; c < d</p>"), ["a &lt;b&gt; c < d"]);
        assert_eq!(texts("<!DOCTYPE html><p><![CDATA[x & y]]></p>"), ["x & y"]);
    }
}

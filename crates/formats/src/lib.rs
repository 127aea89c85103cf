//! Parsers from the wire formats to [`RawItem`].
//!
//! Every transport (HTTP, spool folder, feed polling, CLI) calls
//! [`parse_document`] or [`parse_ndjson`], so a document is read the same way
//! whichever way it arrived, and `wirestream parse` shows exactly what the
//! pipeline would see.
//!
//! Rules shared by every format:
//! * provider: the context's `default_provider` (a trusted transport fact),
//!   else what the document declares (copyright holder, provider element,
//!   feed host) as a lowercase slug, else the authority of the item id, else
//!   `unknown`;
//! * ids: the document's own (ninjs `uri` is required); formats where it is
//!   optional fall back to `urn:wirestream:<format>:<32 hex of BLAKE3>` of the
//!   item's bytes, stable for identical bytes;
//! * text fields and timestamps are kept as sent: normalising is the worker's job;
//! * XML is namespace-aware (elements are matched by namespace URI and
//!   local name) and read without loading DTDs: internal entities expand
//!   within bounds, external ones are refused ([`ErrorKind::ForbiddenDtd`]);
//! * every document is decoded to UTF-8 first ([`encoding`]): a byte-order
//!   mark wins, a wrong charset declaration over UTF-8 bytes becomes a
//!   warning on each item (`RawItem::warnings`), and so does text that looks
//!   double-encoded.

mod common;
mod encoding;
mod error;
mod feed;
mod json_feed;
mod limits;
mod newsml1;
mod newsml_g2;
mod ninjs;
mod nitf;
mod sniff;
mod text;
mod wire;
mod xml;

pub use error::{ErrorKind, Location, ParseError};
pub use limits::Limits;
pub use sniff::{sniff, Charset, Hint};

use chrono::{DateTime, Utc};
use wirestream_model::{Format, RawItem};

/// What the caller knows about a document besides its bytes.
#[derive(Debug, Clone)]
pub struct Context {
    /// Where it came from, copied to [`RawItem::source`].
    pub source: String,
    pub received_at: DateTime<Utc>,
    /// The provider of every item parsed with this context, when the
    /// transport knows it from a trusted source (HTTP token, spool folder,
    /// feed). It wins over what a document says, so that no document can
    /// pass as another provider's; without it the provider is derived from
    /// the document (copyright holder, provider element, id authority).
    pub default_provider: Option<String>,
    pub limits: Limits,
}

impl Context {
    pub fn new(source: impl Into<String>) -> Self {
        Context {
            source: source.into(),
            received_at: Utc::now(),
            default_provider: None,
            limits: Limits::default(),
        }
    }
}

/// Parses one document into the items it carries (several for a NewsML-G2
/// `newsMessage` or a feed). The format comes from `hint`, and is sniffed from
/// the bytes when the hint is generic.
pub fn parse_document(bytes: &[u8], hint: Hint, ctx: &Context) -> Result<Vec<RawItem>, ParseError> {
    ctx.limits.check_document(bytes)?;
    let format = sniff(bytes, hint)?;
    let xml = || xml::Document::parse(bytes, hint.charset());
    let mut items = match format {
        // A batch sent as one document: the first bad line fails it whole.
        Format::Ninjs if hint == Hint::Ndjson => parse_ndjson(bytes, ctx)
            .into_iter()
            .collect::<Result<_, _>>()?,
        Format::Ninjs => vec![ninjs::parse(bytes, ctx)?],
        Format::JsonFeed => json_feed::parse(bytes, ctx)?,
        Format::Text => vec![text::parse(bytes, hint.charset(), ctx)?],
        Format::Anpa1312 | Format::Iptc7901 => wire::parse(bytes, hint.charset(), ctx)?,
        Format::NewsmlG2 => with_warnings(&xml()?, ctx, newsml_g2::parse)?,
        Format::Newsml1 => with_warnings(&xml()?, ctx, newsml1::parse)?,
        Format::Nitf => with_warnings(&xml()?, ctx, |doc, ctx| {
            nitf::parse(doc, ctx).map(|i| vec![i])
        })?,
        Format::Rss => with_warnings(&xml()?, ctx, |doc, ctx| Ok(feed::parse_rss(doc, ctx)))?,
        Format::Atom => with_warnings(&xml()?, ctx, |doc, ctx| Ok(feed::parse_atom(doc, ctx)))?,
    };
    for item in &mut items {
        check_mojibake(item);
    }
    ctx.limits.check_items(&items)?;
    Ok(items)
}

/// Runs an XML parser and gives every item the document's decoding warnings.
fn with_warnings<'a>(
    doc: &xml::Document<'a>,
    ctx: &Context,
    parse: impl FnOnce(&xml::Document<'a>, &Context) -> Result<Vec<RawItem>, ParseError>,
) -> Result<Vec<RawItem>, ParseError> {
    let mut items = parse(doc, ctx)?;
    for item in &mut items {
        item.warnings.extend(doc.warnings.iter().cloned());
    }
    Ok(items)
}

/// A warning on an item whose headline or body looks mis-decoded.
fn check_mojibake(item: &mut RawItem) {
    let found = encoding::mojibake("headline", &item.headline).or_else(|| {
        item.body
            .as_ref()
            .and_then(|body| encoding::mojibake("body", &body.value))
    });
    if let Some(warning) = found {
        item.warnings.push(warning);
    }
}

/// Parses NDJSON: one ninjs document a line. Blank lines are skipped. Each
/// line is parsed on its own, so one bad line does not hide the others: the
/// caller decides whether a batch with errors is refused whole.
pub fn parse_ndjson(bytes: &[u8], ctx: &Context) -> Vec<Result<RawItem, ParseError>> {
    let mut out = Vec::new();
    let mut offset = 0usize;
    for (index, line) in bytes.split(|b| *b == b'\n').enumerate() {
        let line_offset = offset;
        offset += line.len() + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let parsed = ctx
            .limits
            .check_document(line)
            .and_then(|()| ninjs::parse(line, ctx))
            .map_err(|e| e.at_line(index + 1, line_offset));
        out.push(parsed);
    }
    out
}

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
//! * XML is read without DTDs: entity declarations are refused
//!   ([`ErrorKind::ForbiddenDtd`]), documents are decoded to UTF-8 first.

mod common;
mod error;
mod feed;
mod limits;
mod newsml1;
mod newsml_g2;
mod ninjs;
mod nitf;
mod sniff;
mod text;
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
    let items = match format {
        // A batch sent as one document: the first bad line fails it whole.
        Format::Ninjs if hint == Hint::Ndjson => parse_ndjson(bytes, ctx)
            .into_iter()
            .collect::<Result<_, _>>()?,
        Format::Ninjs => vec![ninjs::parse(bytes, ctx)?],
        Format::Text => vec![text::parse(bytes, hint.charset(), ctx)?],
        Format::NewsmlG2 => newsml_g2::parse(&xml::Document::parse(bytes, hint.charset())?, ctx)?,
        Format::Newsml1 => newsml1::parse(&xml::Document::parse(bytes, hint.charset())?, ctx)?,
        Format::Nitf => vec![nitf::parse(
            &xml::Document::parse(bytes, hint.charset())?,
            ctx,
        )?],
        Format::Rss => feed::parse_rss(&xml::Document::parse(bytes, hint.charset())?, ctx),
        Format::Atom => feed::parse_atom(&xml::Document::parse(bytes, hint.charset())?, ctx),
    };
    ctx.limits.check_items(&items)?;
    Ok(items)
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

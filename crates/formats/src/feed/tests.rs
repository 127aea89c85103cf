use super::*;
use crate::xml::Document;

const RSS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel>
    <title>Example Wire</title>
    <link>https://www.example-wire.com/</link>
    <language>en-gb</language>
    <copyright>© Example Wire</copyright>
    <item>
      <title>Markets rally &amp; bonds slip</title>
      <link>https://www.example-wire.com/markets/1</link>
      <guid isPermaLink="false">ew-2024-0001</guid>
      <description><![CDATA[<p>Stocks rose on <b>Monday</b>.</p>]]></description>
      <pubDate>Mon, 06 May 2024 08:00:00 GMT</pubDate>
      <dc:creator>Sam Reporter</dc:creator>
      <category domain="https://www.example-wire.com/topics">Markets</category>
      <category>Economy</category>
    </item>
    <item>
      <title>Second story</title>
      <link>https://www.example-wire.com/world/2</link>
      <description>Short summary</description>
      <content:encoded><![CDATA[<p>Full text.</p>]]></content:encoded>
    </item>
  </channel>
</rss>"#;

#[test]
fn parses_rss() {
    let doc = Document::parse(RSS.as_bytes(), None).unwrap();
    let items = parse_rss(&doc, &Context::new("feed:https://www.example-wire.com/rss"));
    assert_eq!(items.len(), 2);
    let a = &items[0];
    assert_eq!(a.uri, "ew-2024-0001");
    assert_eq!(a.provider, "example-wire.com");
    assert_eq!(a.format, Format::Rss);
    assert_eq!(a.format_version.as_deref(), Some("2.0"));
    assert_eq!(a.headline, "Markets rally & bonds slip");
    assert_eq!(
        a.body,
        Some(html("<p>Stocks rose on <b>Monday</b>.</p>".into()))
    );
    assert_eq!(a.description, None);
    assert_eq!(
        a.versioncreated.as_deref(),
        Some("Mon, 06 May 2024 08:00:00 GMT")
    );
    assert_eq!(a.byline.as_deref(), Some("Sam Reporter"));
    assert_eq!(
        a.subjects[0],
        Subject {
            code: Some("https://www.example-wire.com/topics".into()),
            name: Some("Markets".into())
        }
    );
    assert_eq!(a.subjects[1].name.as_deref(), Some("Economy"));
    assert_eq!(a.language.as_deref(), Some("en-gb"));
    assert_eq!(a.copyright.as_deref(), Some("© Example Wire"));
    assert_eq!(a.source, "feed:https://www.example-wire.com/rss");
    let original = String::from_utf8(a.original.to_bytes()).unwrap();
    assert!(
        original.starts_with("<item>")
            && original.ends_with("</item>")
            && original.contains("ew-2024-0001")
    );

    let b = &items[1];
    assert_eq!(b.uri, "https://www.example-wire.com/world/2");
    assert_eq!(b.body, Some(html("<p>Full text.</p>".into())));
    assert_eq!(b.description.as_deref(), Some("Short summary"));
}

#[test]
fn parses_rss_1_rdf() {
    let rdf = r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="http://news.example.org/"><title>Ex</title><link>http://news.example.org/</link></channel>
  <item rdf:about="http://news.example.org/a"><title>A</title><link>http://news.example.org/a</link><dc:date>2024-05-06T08:00:00Z</dc:date></item>
</rdf:RDF>"#;
    let doc = Document::parse(rdf.as_bytes(), None).unwrap();
    let items = parse_rss(&doc, &Context::new("t"));
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].uri, "http://news.example.org/a");
    assert_eq!(items[0].provider, "news.example.org");
    assert_eq!(
        items[0].versioncreated.as_deref(),
        Some("2024-05-06T08:00:00Z")
    );
    assert_eq!(items[0].body, None);
}

const ATOM: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="de">
  <title>Beispiel</title>
  <link href="https://nachrichten.example.de/"/>
  <link rel="self" href="https://feeds.example.de/atom"/>
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <rights>© Beispiel</rights>
  <updated>2024-05-06T08:00:00Z</updated>
  <entry>
    <title type="text">Erste Meldung</title>
    <link rel="alternate" href="https://nachrichten.example.de/1"/>
    <id>tag:example.de,2024:1</id>
    <published>2024-05-06T07:00:00Z</published>
    <updated>2024-05-06T08:00:00Z</updated>
    <author><name>Anna Schmidt</name></author>
    <author><name>Ben Wolf</name></author>
    <category term="politik" label="Politik"/>
    <summary>Kurz.</summary>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Der <em>ganze</em> Text.</p></div></content>
  </entry>
  <entry xml:lang="en">
    <title>Second</title>
    <id>tag:example.de,2024:2</id>
    <updated>2024-05-06T09:00:00Z</updated>
    <content type="html">&lt;p&gt;Escaped &amp;amp; HTML&lt;/p&gt;</content>
  </entry>
  <entry>
    <title>Third</title>
    <id>tag:example.de,2024:3</id>
    <summary>Only a summary</summary>
  </entry>
</feed>"#;

#[test]
fn parses_atom() {
    let doc = Document::parse(ATOM.as_bytes(), None).unwrap();
    let items = parse_atom(&doc, &Context::new("t"));
    assert_eq!(items.len(), 3);
    let a = &items[0];
    assert_eq!(a.uri, "tag:example.de,2024:1");
    assert_eq!(a.provider, "nachrichten.example.de");
    assert_eq!(a.format, Format::Atom);
    assert_eq!(a.headline, "Erste Meldung");
    assert_eq!(a.body, Some(html("<p>Der <em>ganze</em> Text.</p>".into())));
    assert_eq!(a.description.as_deref(), Some("Kurz."));
    assert_eq!(a.versioncreated.as_deref(), Some("2024-05-06T08:00:00Z"));
    assert_eq!(a.firstcreated.as_deref(), Some("2024-05-06T07:00:00Z"));
    assert_eq!(a.byline.as_deref(), Some("Anna Schmidt, Ben Wolf"));
    assert_eq!(
        a.subjects,
        [Subject {
            code: Some("politik".into()),
            name: Some("Politik".into())
        }]
    );
    assert_eq!(a.language.as_deref(), Some("de"));
    assert_eq!(a.copyright.as_deref(), Some("© Beispiel"));

    let b = &items[1];
    assert_eq!(b.body, Some(html("<p>Escaped &amp; HTML</p>".into())));
    assert_eq!(b.language.as_deref(), Some("en"));
    let c = &items[2];
    assert_eq!(
        c.body,
        Some(Body {
            kind: BodyKind::Text,
            value: "Only a summary".into()
        })
    );
    assert_eq!(c.description, None);
}

#[test]
fn namespaces_decide_not_prefixes() {
    // An RSS channel's `atom:link` is not its `link`, and a module element
    // is found by its namespace whatever prefix the feed gives it.
    let feed = br#"<rss version="2.0" xmlns:a="http://www.w3.org/2005/Atom" xmlns:d="http://purl.org/dc/elements/1.1/" xmlns:c="http://purl.org/rss/1.0/modules/content/">
<channel><a:link rel="self" href="https://feeds.example/self"/><link>https://www.site.example/</link>
<item><title>T</title><guid>g</guid><d:creator>Ann Lee</d:creator><c:encoded>&lt;p&gt;Full&lt;/p&gt;</c:encoded><description>Short</description></item></channel></rss>"#;
    let doc = Document::parse(feed, None).unwrap();
    let item = parse_rss(&doc, &Context::new("t")).remove(0);
    assert_eq!(item.provider, "site.example");
    assert_eq!(item.byline.as_deref(), Some("Ann Lee"));
    assert_eq!(item.body.unwrap().value, "<p>Full</p>");
    assert_eq!(item.description.as_deref(), Some("Short"));
}

#[test]
fn atom_titles_follow_their_type() {
    let xml = r#"<feed xmlns="http://www.w3.org/2005/Atom">
      <entry><id>1</id><title type="html">&lt;b&gt;Bold&lt;/b&gt; headline &amp;amp; more</title></entry>
      <entry><id>2</id><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">XHTML <b>title</b></div></title></entry>
      <entry><id>3</id><title>Plain &lt;not a tag&gt; &amp; text</title></entry>
      <entry><id>4</id><title type="HTML">&lt;p&gt;&lt;/p&gt;</title></entry>
    </feed>"#;
    let doc = Document::parse(xml.as_bytes(), None).unwrap();
    let items = parse_atom(&doc, &Context::new("t"));
    // The HTML's tags go; its entities are decoded once, by the worker.
    assert_eq!(items[0].headline, "Bold headline &amp; more");
    assert_eq!(items[1].headline, "XHTML title");
    // Text is text: what looks like a tag is part of it.
    assert_eq!(items[2].headline, "Plain <not a tag> & text");
    assert_eq!(items[3].headline, "");
}

#[test]
fn rss_titles_are_kept_as_sent() {
    let xml = r#"<rss version="2.0"><channel>
      <item><guid>1</guid><title><![CDATA[CDATA <em>title</em> here]]></title></item>
      <item><guid>2</guid><title>&lt;b&gt;Escaped&lt;/b&gt; tags</title></item>
      <item><guid>3</guid><title>BANKAMERICA &lt;BAC&gt; OFFER, a &lt; b</title></item>
    </channel></rss>"#;
    let doc = Document::parse(xml.as_bytes(), None).unwrap();
    let items = parse_rss(&doc, &Context::new("t"));
    // Plain text by the spec: markup in it is the worker's to judge
    // (crates/normalize/src/headline.rs), with a ticker and a comparison.
    assert_eq!(items[0].headline, "CDATA <em>title</em> here");
    assert_eq!(items[1].headline, "<b>Escaped</b> tags");
    assert_eq!(items[2].headline, "BANKAMERICA <BAC> OFFER, a < b");
}

#[test]
fn rss_fields_prefer_the_feeds_own_elements() {
    // A foreign `title` written first used to win the headline.
    let xml = r#"<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel><link>http://x.com/</link>
      <item><g:title>Google title</g:title><title>Real title</title><g:link>http://g/</g:link><link>http://x.com/1</link><guid>pv1</guid><g:description>G</g:description><description>Real body</description></item>
      <item><g:title>Only a foreign title</g:title><guid>pv2</guid></item>
    </channel></rss>"#;
    let doc = Document::parse(xml.as_bytes(), None).unwrap();
    let items = parse_rss(&doc, &Context::new("t"));
    assert_eq!(items[0].headline, "Real title");
    assert_eq!(
        items[0].body.as_ref().map(|b| b.value.as_str()),
        Some("Real body")
    );
    // With nothing of its own, a foreign one still reads.
    assert_eq!(items[1].headline, "Only a foreign title");

    let xml = r#"<feed xmlns="http://www.w3.org/2005/Atom" xmlns:g="http://base.google.com/ns/1.0">
      <entry><g:id>g</g:id><id>real</id><g:title>G</g:title><title>Real</title></entry></feed>"#;
    let doc = Document::parse(xml.as_bytes(), None).unwrap();
    let items = parse_atom(&doc, &Context::new("t"));
    assert_eq!(items[0].uri, "real");
    assert_eq!(items[0].headline, "Real");
}

#[test]
fn an_items_original_parses_again_on_its_own() {
    // A dead letter is replayed to ingest with its original: for a feed
    // item, its own element.
    let ctx = Context::new("t");
    let items = crate::parse_document(RSS.as_bytes(), crate::Hint::Auto, &ctx).unwrap();
    for item in &items {
        let again =
            crate::parse_document(&item.original.to_bytes(), crate::Hint::Auto, &ctx).unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].format, Format::Rss);
        assert_eq!(again[0].uri, item.uri);
        assert_eq!(again[0].headline, item.headline);
        assert_eq!(again[0].body, item.body);
    }
}

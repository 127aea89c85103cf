//! Hostile and broken input at the HTTP level: each gets the status and the
//! error code docs/ingest.md lists, and nothing reaches the raw topic.

use std::io::Write as _;

use wirestream_tests::{Options, Pipeline};

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).expect("compress");
    encoder.finish().expect("compress")
}

struct Case {
    name: &'static str,
    content_type: &'static str,
    encoding: Option<&'static str>,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
}

fn case(
    name: &'static str,
    content_type: &'static str,
    body: impl Into<Vec<u8>>,
    status: u16,
    code: &'static str,
) -> Case {
    Case {
        name,
        content_type,
        encoding: None,
        body: body.into(),
        status,
        code,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_input_gets_a_precise_4xx_and_nothing_is_written() {
    let pipeline = Pipeline::start_with(Options {
        services: Some(&["ingest"]),
        ..Options::default()
    })
    .await
    .expect("pipeline starts");
    let six_mib = {
        let mut body =
            b"{\"uri\":\"urn:big\",\"headlines\":[{\"role\":\"main\",\"value\":\"".to_vec();
        body.resize(6 * 1024 * 1024, b'a');
        body.extend_from_slice(b"\"}]}");
        body
    };
    let billion_laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="urn:x"><contentSet>&lol3;</contentSet></newsItem>"#;
    let xxe = r#"<?xml version="1.0"?>
<!DOCTYPE nitf [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<nitf><head><title>&xxe;</title></head><body><body.content><p>&xxe;</p></body.content></body></nitf>"#;
    let mut cases = vec![
        case("truncated JSON", "application/json", r#"{"uri": "urn:x", "headlines": [{"role": "main", "val"#, 400, "invalid_json"),
        case(
            "truncated XML",
            "application/xml",
            r#"<?xml version="1.0"?><nitf><head><title>Cut</title></head><body><body.content><p>cut her"#,
            400,
            "invalid_xml",
        ),
        // A legacy declaration over UTF-8 bytes is taken with a warning
        // (issue 19); bytes valid in no candidate encoding are refused.
        case(
            "wrong charset declaration",
            "application/xml",
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><nitf><head><title>Caf\xe9 cr\xe8me</title></head></nitf>".to_vec(),
            400,
            "wrong_charset",
        ),
        case("charset on JSON", "application/json; charset=iso-8859-1", r#"{"uri":"urn:x"}"#, 400, "wrong_charset"),
        case("invalid UTF-8", "text/plain", b"HEADLINE\n\nBody with a bad \xff\xfe\xfd byte".to_vec(), 400, "invalid_utf8"),
        case("6 MiB body", "application/json", six_mib, 413, "too_large"),
        case("XML external entity", "application/xml", xxe, 400, "forbidden_dtd"),
        case("billion laughs", "application/xml", billion_laughs, 400, "forbidden_dtd"),
        case("unknown content type", "image/png", b"\x89PNG\r\n\x1a\n....".to_vec(), 415, "unknown_format"),
        case("binary sent as octet-stream", "application/octet-stream", b"\x00\x01\x02\xff\xfe".to_vec(), 400, "invalid_utf8"),
        case("empty body", "application/json", Vec::new(), 400, "empty"),
    ];
    let bomb = gzip(&vec![b' '; 64 * 1024 * 1024]);
    assert!(
        bomb.len() < 200 * 1024,
        "the bomb is small on the wire: {}",
        bomb.len()
    );
    cases.push(Case {
        encoding: Some("gzip"),
        ..case("gzip bomb", "application/json", bomb, 413, "too_large")
    });
    cases.push(Case {
        encoding: Some("gzip"),
        ..case(
            "not gzip",
            "text/plain",
            b"plain".to_vec(),
            400,
            "invalid_encoding",
        )
    });
    cases.push(Case {
        encoding: Some("br"),
        ..case(
            "brotli",
            "text/plain",
            b"x".to_vec(),
            415,
            "unsupported_encoding",
        )
    });

    let client = reqwest::Client::new();
    for case in cases {
        let mut request = client
            .post(format!("{}/v1/articles", pipeline.ingest_url))
            .header("content-type", case.content_type)
            .body(case.body);
        if let Some(encoding) = case.encoding {
            request = request.header("content-encoding", encoding);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: no answer: {e}", case.name));
        assert_eq!(response.status().as_u16(), case.status, "{}", case.name);
        let problem: serde_json::Value = response
            .json()
            .await
            .unwrap_or_else(|e| panic!("{}: not a JSON problem: {e}", case.name));
        assert_eq!(problem["error"], case.code, "{}: {problem}", case.name);
        assert!(
            problem["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{}: {problem}",
            case.name
        );
    }
    // A batch line over the limit is refused by line.
    let response = pipeline
        .post(
            "/v1/articles:batch",
            "application/x-ndjson",
            "{\"uri\":\"urn:ok\",\"headlines\":[{\"value\":\"ok\"}]}\n{\"uri\":",
        )
        .await;
    assert_eq!(response.status(), 400);
    let problem: serde_json::Value = response.json().await.expect("a JSON problem");
    assert_eq!(problem["details"][0]["line"], 2, "{problem}");

    assert_eq!(
        pipeline.topic_messages(&pipeline.kafka.raw_topic.clone()),
        0,
        "nothing may reach the raw topic"
    );
    pipeline.stop().await;
}

/// An item with neither headline nor body text is not refused at the door:
/// ingest keeps what the provider sent (the raw topic is the record), and
/// the worker dead-letters it (see docs/ingest.md).
#[tokio::test(flavor = "multi_thread")]
async fn an_empty_headline_and_body_is_recorded_as_sent() {
    let pipeline = Pipeline::start_with(Options {
        services: Some(&["ingest"]),
        ..Options::default()
    })
    .await
    .expect("pipeline starts");
    let doc = r#"{"uri":"urn:test:empty","headlines":[{"role":"main","value":""}],"bodies":[{"role":"main","contenttype":"text/plain","value":""}]}"#;
    let response = pipeline.post("/v1/articles", "application/json", doc).await;
    assert_eq!(response.status(), 202);
    let messages = pipeline
        .raw_messages(1, std::time::Duration::from_secs(20))
        .await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].value["uri"], "urn:test:empty");
    assert_eq!(messages[0].value["headline"], "");
    pipeline.stop().await;
}

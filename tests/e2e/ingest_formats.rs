//! Every sample under shared/formats, through the HTTP API and through the
//! CLI, comes out on the raw topic as the right raw item.

use std::collections::HashMap;
use std::time::Duration;

use wirestream_tests::{binary_path, shared, Options, Pipeline};

/// (file, uri, headline, provider, format)
const SAMPLES: &[(&str, &str, &str, &str, &str)] = &[
    ("ninjs/examples/ap_image.json", "http://api.ap.org/media/v/content/b2b6c3f4642f46deac7509d4db315ca0?qt=H1Kdh42orF&et=0a1aza3c0", "Turkey Islamic State", "api.ap.org", "ninjs"),
    ("ninjs/examples/businesswire-newsml-20130605006126.json", "http://www.businesswire.com/news/home/20130605006126/zh", "Cambrios被Gartner評選為「最酷供應商」", "businesswire.com", "ninjs"),
    ("ninjs/examples/dpa_text.json", "urn:newsml:dpa.com:20090101:190510-99-167362", "Faktencheck Derby-Elfmeter: Hat Schiedsrichter Zwayer recht?", "dpa", "ninjs"),
    ("ninjs/examples/ninjsExSimpleText_2.json", "http://ninjs.example.com/newsitems/20130709simp123", "Captain of wrecked cruise ship on trial in Italy", "ninjs.example.com", "ninjs"),
    ("ninjs/examples/ntb_text.json", "urn:8d19cf88-b3ab-4972-8fec-1207599f2872", "Google har kjøpt giganttomt i Skien", "ntb", "ninjs"),
    ("ninjs/examples/tt_text_image_2.json", "http://tt.se/media/text/210526-militarovning-a0f2d045", "Militärövning i jätteformat hålls 2023", "tt", "ninjs"),
    ("newsml-g2/LISTING_1_A_NewsML-G2_News_Item.xml", "urn:newsml:acmenews.com:20161018:US-FINANCE-FED", "Fed to halt QE to avert \"bubble\"", "reuters", "newsml-g2"),
    ("newsml-g2/LISTING_2_NewsML-G2_Text_Document.xml", "urn:newsml:acmenews.com:20161121:US-FINANCE-FED", "Fed to halt QE to avert \"bubble\"", "acmenews.com", "newsml-g2"),
];

fn content_type(file: &str) -> &'static str {
    if file.ends_with(".json") {
        "application/json"
    } else {
        "application/xml"
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn shared_samples_through_api_and_cli() {
    let pipeline = Pipeline::start_with(Options {
        services: Some(&["ingest"]),
        ..Options::default()
    })
    .await
    .expect("pipeline starts");

    for (file, uri, ..) in SAMPLES {
        let bytes = std::fs::read(shared(&format!("formats/{file}"))).expect("the sample");
        let response = pipeline
            .post("/v1/articles", content_type(file), bytes)
            .await;
        assert_eq!(response.status(), 202, "{file}");
        let answer: serde_json::Value = response.json().await.expect("JSON");
        assert_eq!(answer["ids"][0], *uri, "{file}");
    }
    // Listing 25 is a fragment (a `contentSet`), not a document: refused, saying why.
    let fragment = std::fs::read(shared(
        "formats/newsml-g2/LISTING_25_An_NITF_marked-up_article_conveyed_in_inlineXML.xml",
    ))
    .expect("listing 25");
    let response = pipeline
        .post("/v1/articles", "application/xml", fragment)
        .await;
    assert!(response.status().is_client_error(), "{}", response.status());
    let problem: serde_json::Value = response.json().await.expect("a JSON problem");
    assert!(
        problem["message"]
            .as_str()
            .unwrap_or("")
            .contains("contentSet"),
        "{problem}"
    );

    let mut cli = tokio::process::Command::new(binary_path("wirestream"));
    cli.args(["feed", "--quiet", "--url", &pipeline.ingest_url])
        .arg(shared("formats/ninjs/examples"));
    for (file, ..) in SAMPLES.iter().filter(|s| s.0.starts_with("newsml-g2")) {
        cli.arg(shared(&format!("formats/{file}")));
    }
    let output = cli.output().await.expect("wirestream runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let messages = pipeline
        .raw_messages(2 * SAMPLES.len(), Duration::from_secs(30))
        .await;
    assert_eq!(messages.len(), 2 * SAMPLES.len());
    let mut by_uri: HashMap<&str, Vec<&serde_json::Value>> = HashMap::new();
    for message in &messages {
        by_uri
            .entry(message.value["uri"].as_str().unwrap_or(""))
            .or_default()
            .push(&message.value);
        assert_eq!(
            message.headers.get("wirestream-format").map(String::as_str),
            message.value["format"].as_str()
        );
    }
    for (file, uri, headline, provider, format) in SAMPLES {
        let items = by_uri
            .get(uri)
            .unwrap_or_else(|| panic!("{file}: {uri} is not on the raw topic"));
        assert_eq!(items.len(), 2, "{file}: once by the API, once by the CLI");
        for item in items {
            assert_eq!(
                item["headline"].as_str().map(str::trim),
                Some(*headline),
                "{file}"
            );
            assert_eq!(item["provider"], *provider, "{file}");
            assert_eq!(item["format"], *format, "{file}");
            assert_eq!(item["schema"], 1, "{file}");
            assert!(
                item["original"].is_object() || item["original"].is_string(),
                "{file}: the original is kept"
            );
        }
    }
    pipeline.stop().await;
}

//! Golden values: the content hash, the verification sketch and the LSH keys
//! of a few fixed texts, exactly as this code computes them.
//!
//! All three are stored in PostgreSQL (`dedup_hashes.content_hash`,
//! `dedup_sketches.sketch`, `dedup_bands.band_key`) and compared against
//! what later versions compute. If one of these tests fails, the change
//! invalidates every stored index: do not update the values without a
//! migration that empties (or re-keys) the dedup tables and a note in
//! docs/dedup.md ("Changing the parameters"). Changing a dedup parameter
//! has the same effect; the stored parameter fingerprint catches that one.

use wirestream_model::fixtures;

use crate::config::DedupConfig;
use crate::sketch::fingerprint;

// Our own texts, written for these tests.
const ENGLISH: (&str, &str) = (
    "ACME MINING <ACM.N> SEES HIGHER 1987 COPPER OUTPUT",
    "Acme Mining Corp said it expects copper output to rise to 212,000 tonnes in 1987 from 198,500 tonnes last year, as its new smelter in Arizona reaches full capacity by the third quarter. The company said capital spending would be about 145 mln dlrs, down from 160 mln dlrs in 1986.",
);
const FRENCH: (&str, &str) = (
    "La récolte de blé française en hausse de 4 %",
    "La récolte de blé tendre en France devrait atteindre 35,2 millions de tonnes cette année, contre 33,8 millions l'an dernier, a indiqué mardi le ministère de l'Agriculture. Les pluies de printemps ont été favorables dans le Centre et en Île-de-France.",
);
const CJK: (&str, &str) = (
    "東京株式市場 日経平均は続伸",
    "東京株式市場で日経平均株価は続伸し、前日比 215 円高の 38,420 円で取引を終えた。半導体関連株に買いが入った。 外国為替市場では円相場が 1 ドル 151 円台で推移した。",
);
const HEADLINE_ONLY: (&str, &str) = ("FLASH: ACME MINING HALTS TRADING PENDING NEWS", "");

fn golden(text: (&str, &str)) -> (String, Vec<u64>, String) {
    let (headline, body) = text;
    let mut article = fixtures::article("urn:golden", headline, body);
    article.content_hash = wirestream_normalize::content_hash(headline, body);
    let fp = fingerprint(&article, &DedupConfig::default());
    let sketch: String = fp
        .sketch
        .to_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    (article.content_hash, fp.keys, sketch)
}

/// Asserts the content hash, the number of LSH keys and their first ones
/// (all of them for the English text), and the encoded sketch.
fn check(text: (&str, &str), hash: &str, key_count: usize, first_keys: &[u64], sketch: &[&str]) {
    let (got_hash, got_keys, got_sketch) = golden(text);
    assert_eq!(got_hash, hash, "content hash of {:?}", text.0);
    assert_eq!(got_keys.len(), key_count, "LSH keys of {:?}", text.0);
    assert_eq!(
        &got_keys[..first_keys.len()],
        first_keys,
        "LSH keys of {:?}",
        text.0
    );
    assert_eq!(got_sketch, sketch.concat(), "sketch of {:?}", text.0);
}

#[test]
fn golden_hashes() {
    // The primitives under every digest above.
    assert_eq!(crate::hash::mix(0), 0);
    assert_eq!(crate::hash::mix(1), 6_238_072_747_940_578_789);
    assert_eq!(crate::hash::bytes(b"copper"), 3_957_697_586_103_745_213);
}

#[test]
fn golden_english() {
    check(
        ENGLISH,
        "c04e12423af3954a0d89fed12e37fdf737f4051dbb07fc71deabd23d7c34d458",
        33,
        &[
            3043326393080888837,
            859460600595612293,
            12501719611681829131,
            12432039737097779603,
            4866303643035133886,
            16840548100841813538,
            14483853606453005414,
            17571544764894093218,
            4799452941269258439,
            11734657222500042320,
            1810386826951196047,
            3526677794875100378,
            3600058329334654527,
            1434297852860633522,
            8509279387264925580,
            7300077801776529024,
            18085125793156091553,
            3191509077094796114,
            5630092457768622952,
            18407370241835462553,
            12002827270050481237,
            11917535616502451093,
            14268109165418395212,
            1933359592717110384,
            12401666247965505208,
            9137152652264485081,
            13133534182685473624,
            11390313735386497244,
            5562961292953722850,
            10688238912101468144,
            6534966387689289272,
            15869137946950156076,
            1643142902156544078,
        ],
        &[
            "01013100000006000000cd514e3e310096a5760661d3440fd478d413a3b6f719",
            "189e8b1b68bdd21fb77b3821f909d62201d1f32a4c1f1b38589f0a3f20ac0a40",
            "b88b4d404064344c4ece3a5a1f1f355f44554962419b8062780c76661929386c",
            "0f411a72118d8374cf34da765cbe8d7f36e8b099cefddea2ac91d5a3ba18c8a4",
            "3b4e76a61309a0a6780cbfa8e80a4dacd7b5caadaa0173b74b026cba185711be",
            "0c6fc5bea8eab7c194e22cc77071f0ca74ea24d1a03d9fd46472c3d72c9596dc",
            "ba503ee083963ee0e386a2e1cb751afa742ff5fd0600bea28c3b222a26607a0a",
            "327653444795b5a59ba86954a7b60800cd514e3e1132586220f2ca6241eace6a",
            "7a0a3276bcb07c7f35e9a3f82fc512fc0000",
        ],
    );
}

#[test]
fn golden_french() {
    check(
        FRENCH,
        "bdd5fecd385ad67bed6aada18aad445e029c15ec279b63d5ed1c6fd526e1239b",
        33,
        &[
            2251414932877476660,
            1752636668960032247,
            8322301733324741158,
            8627223314603016415,
        ],
        &[
            "0101280000000200000076335bc028003a70c700a6c63f1d66d1e41ddfb5b01e",
            "19f64c2093611925b007682f2ec4b33ce441143fc0588342db437847c914b856",
            "35a1186c29bce26cae16d4735db28575eaaf2984f946ac85410e8d8af9be498b",
            "6863dd9defb2e8a0571a89a1661e9ca32d3934a50b0f42a97958faaf894a58b0",
            "134514b3dd3dd3ba0acc3ebde811adbdb92f76cf1dbbc8db9b3e39dddea92ee1",
            "64fea7e5952f46e7d69939f032e4bcf30200ca00ee33fbfed18908001a1e341e",
            "e01aa6231714985176310152e82ec567e2481e7f76335bc00fd9a2f10000",
        ],
    );
}

#[test]
fn golden_cjk() {
    check(
        CJK,
        "53635305b887e448f8fe8f1c47246b7937a959f650e6a99115f5b29b7acfa0b1",
        33,
        &[
            15722810678536334594,
            10619470906377290966,
            266113539061265444,
            3977324874479958209,
        ],
        &[
            "01010a000000040000009585a5360a001049800bc6d3f31b290e731d9dfeaf2d",
            "102cc42f5d22cc35778b9c440f2dde8e9fec0cd04e1b9ff10400c063c7139673",
            "8114fa613bcf4c6259dc02009585a536778fd39d0000",
        ],
    );
}

#[test]
fn golden_headline_only() {
    check(
        HEADLINE_ONLY,
        "bea75fe3dde052b1d781ff867ad1044ecdce0255e838f9b6dc1e0d1abfb5a5c1",
        0,
        &[],
        &[
            "01010000000000000000cda1a5dc000000000700f7251435cd514e3ea62bcf40",
            "b191d986cda1a5dc85f7c1f82fc512fc0000",
        ],
    );
}

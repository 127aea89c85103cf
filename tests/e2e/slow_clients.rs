//! Slow and large clients do not hold the ingest API: 500 connections that
//! dribble a header and 50 concurrent 5 MiB uploads, while ordinary requests
//! still get `202` within a second; a dribbling connection is closed after
//! the header read timeout, a dribbling body after the body read timeout.
//! Loopback only, bounded in time and in connections.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use wirestream_tests::{Options, Pipeline};

const SLOW_CONNECTIONS: usize = 500;
const UPLOADS: usize = 50;
const UPLOAD_BYTES: usize = 5 * 1024 * 1024;
/// An upload is sent in pieces this large, `UPLOAD_PAUSE` apart (about three
/// seconds each), so that all fifty are in flight together for a while.
const UPLOAD_CHUNK: usize = 64 * 1024;
const UPLOAD_PAUSE: Duration = Duration::from_millis(40);
const ORDINARY_WITHIN: Duration = Duration::from_secs(1);

/// Raises this process's soft limit on open files to `want` (or the hard
/// limit); the services it starts inherit it. Returns the limit in force.
fn raise_fd_limit(want: u64) -> u64 {
    // SAFETY: getrlimit/setrlimit only read and write the struct given.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 0;
        }
        if limit.rlim_cur < want {
            limit.rlim_cur = want.min(limit.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        }
        limit.rlim_cur
    }
}

fn addr(pipeline: &Pipeline) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], pipeline.ports[0]))
}

fn small(uri: &str) -> String {
    json!({
        "uri": uri, "language": "en",
        "headlines": [{"role": "main", "value": format!("Ordinary item {uri}")}],
        "bodies": [{"role": "main", "contenttype": "text/plain", "value": "LONDON - An ordinary item."}],
    })
    .to_string()
}

/// A ninjs document of `UPLOAD_BYTES`, words in its body.
fn large(uri: &str) -> Vec<u8> {
    let doc = |body: &str| {
        json!({
            "uri": uri, "language": "en",
            "headlines": [{"role": "main", "value": "A very long story"}],
            "bodies": [{"role": "main", "contenttype": "text/plain", "value": body}],
        })
        .to_string()
    };
    let overhead = doc("").len();
    let words = "wire copy keeps coming in every hour of the day ";
    let mut body = words.repeat((UPLOAD_BYTES - overhead) / words.len() + 1);
    body.truncate(UPLOAD_BYTES - overhead);
    doc(&body).into_bytes()
}

/// The status code of the HTTP answer read from `stream`, if any.
async fn read_status(stream: &mut TcpStream, within: Duration) -> Option<u16> {
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    let read = async {
        while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    };
    let _ = tokio::time::timeout(within, read).await;
    let text = String::from_utf8_lossy(&answer);
    text.strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
}

/// One slowloris client: opens a connection, sends the start of a request
/// head and then one byte every half second, and opens another connection
/// when the server closes it, until `stop`. Returns how many were closed.
async fn slowloris(to: SocketAddr, stop: Arc<AtomicBool>) -> usize {
    let mut closed = 0;
    while !stop.load(Ordering::SeqCst) {
        let Ok(stream) = TcpStream::connect(to).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let (mut reader, mut writer) = stream.into_split();
        if writer
            .write_all(b"POST /v1/articles HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            .await
            .is_err()
        {
            closed += 1;
            continue;
        }
        let mut buf = [0u8; 256];
        loop {
            tokio::select! {
                // The server's answer (408) or its close: either ends this connection.
                _ = reader.read(&mut buf) => { closed += 1; break; }
                _ = tokio::time::sleep(Duration::from_millis(500)) => {
                    if stop.load(Ordering::SeqCst) {
                        return closed;
                    }
                    if writer.write_all(b"x").await.is_err() {
                        closed += 1;
                        break;
                    }
                }
            }
        }
    }
    closed
}

/// One large upload, sent in pieces; returns the status and how long it took.
async fn upload(to: SocketAddr, body: Arc<Vec<u8>>) -> (Option<u16>, Duration) {
    let started = Instant::now();
    let Ok(mut stream) = TcpStream::connect(to).await else {
        return (None, started.elapsed());
    };
    let head = format!(
        "POST /v1/articles HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if stream.write_all(head.as_bytes()).await.is_err() {
        return (None, started.elapsed());
    }
    for piece in body.chunks(UPLOAD_CHUNK) {
        if stream.write_all(piece).await.is_err() {
            return (None, started.elapsed());
        }
        tokio::time::sleep(UPLOAD_PAUSE).await;
    }
    let status = read_status(&mut stream, Duration::from_secs(60)).await;
    (status, started.elapsed())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_and_large_clients_do_not_hold_ordinary_requests() {
    // Each slow connection and upload is one descriptor here and one in
    // ingest (which inherits this limit), plus Kafka's and the runtime's.
    let needed = (SLOW_CONNECTIONS + UPLOADS) as u64 + 512;
    let limit = raise_fd_limit(2 * needed);
    assert!(
        limit >= needed,
        "open files limit {limit} < {needed}: raise `ulimit -n`"
    );
    let pipeline = Pipeline::start_with(Options {
        services: Some(&["ingest"]),
        ingest_toml: Some(format!(
            "max_body_bytes = {UPLOAD_BYTES}\nmax_concurrent_requests = 64\n\
             header_read_timeout = \"10s\"\nbody_read_timeout = \"30s\""
        )),
        // A 5 MiB document becomes a record of about as many bytes.
        config_toml: Some("[kafka]\nmax_message_bytes = 16777216".into()),
        ..Options::default()
    })
    .await
    .expect("ingest starts");
    let to = addr(&pipeline);
    let bounded = tokio::time::timeout(Duration::from_secs(180), async {
        let stop = Arc::new(AtomicBool::new(false));
        let slow: Vec<_> = (0..SLOW_CONNECTIONS)
            .map(|_| tokio::spawn(slowloris(to, stop.clone())))
            .collect();
        let uploads_done = Arc::new(AtomicUsize::new(0));
        let uploads: Vec<_> = (0..UPLOADS)
            .map(|n| {
                let body = Arc::new(large(&format!("urn:slow:large:{n}")));
                let done = uploads_done.clone();
                tokio::spawn(async move {
                    let outcome = upload(to, body).await;
                    done.fetch_add(1, Ordering::SeqCst);
                    outcome
                })
            })
            .collect();

        // Ordinary requests, one after another, until every upload is
        // answered and a second more (the parsing and producing of the
        // large items happen last).
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("a client");
        let mut latencies = Vec::new();
        let mut slow_answers = Vec::new();
        let mut finished_at: Option<Instant> = None;
        let mut n = 0;
        while finished_at.is_none_or(|at| at.elapsed() < Duration::from_secs(1)) {
            if finished_at.is_none() && uploads_done.load(Ordering::SeqCst) == UPLOADS {
                finished_at = Some(Instant::now());
            }
            n += 1;
            let started = Instant::now();
            let response = client
                .post(format!("{}/v1/articles", pipeline.ingest_url))
                .header("content-type", "application/json")
                .body(small(&format!("urn:slow:ordinary:{n}")))
                .send()
                .await;
            let took = started.elapsed();
            let status = response.map(|r| r.status().as_u16()).ok();
            if status != Some(202) || took >= ORDINARY_WITHIN {
                slow_answers.push((n, status, took));
            }
            latencies.push(took);
            // Paced: about ten a second, so that they span the whole run.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        stop.store(true, Ordering::SeqCst);
        let mut statuses = Vec::new();
        let mut upload_times = Vec::new();
        for handle in uploads {
            let (status, took) = handle.await.expect("an upload task");
            statuses.push(status);
            upload_times.push(took);
        }
        let mut closed = 0;
        for handle in slow {
            closed += handle.await.expect("a slow client");
        }
        (latencies, slow_answers, statuses, upload_times, closed)
    })
    .await;
    let (mut latencies, slow_answers, statuses, mut upload_times, closed) =
        bounded.expect("the load test ends within three minutes");
    latencies.sort();
    upload_times.sort();
    println!(
        "ordinary requests: {} (p50 {:?}, p99 {:?}, max {:?}); uploads: {:?} 202 of {UPLOADS} \
         (p50 {:?}, max {:?}); slow connections closed by the server: {closed}",
        latencies.len(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last(),
        statuses.iter().filter(|s| **s == Some(202)).count(),
        percentile(&upload_times, 0.5),
        upload_times.last(),
    );
    assert!(
        slow_answers.is_empty(),
        "ordinary requests not answered 202 within {ORDINARY_WITHIN:?} (n, status, took): \
         {slow_answers:?}\n{}",
        pipeline.logs()
    );
    assert!(
        latencies.len() >= 20,
        "too few ordinary requests: {}",
        latencies.len()
    );
    assert!(
        statuses.iter().all(|s| *s == Some(202)),
        "every upload is accepted: {statuses:?}\n{}",
        pipeline.logs()
    );
    pipeline.stop().await;
}

/// The header read timeout closes a connection that dribbles its head, and
/// one that sends nothing; the body read timeout answers `408` to one that
/// dribbles its body; a `Content-Length` over the limit is answered `413`
/// with no body sent; a request over `max_concurrent_requests` gets `503`.
#[tokio::test(flavor = "multi_thread")]
async fn slow_connections_are_cut_and_limits_refuse_early() {
    let pipeline = Pipeline::start_with(Options {
        services: Some(&["ingest"]),
        ingest_toml: Some(
            "header_read_timeout = \"1s\"\nbody_read_timeout = \"1s\"\nmax_concurrent_requests = 1"
                .into(),
        ),
        ..Options::default()
    })
    .await
    .expect("ingest starts");
    let to = addr(&pipeline);

    // A head dribbled a byte every 200 ms: closed after about a second.
    let started = Instant::now();
    let mut stream = TcpStream::connect(to).await.expect("connects");
    stream
        .write_all(b"POST /v1/articles HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .expect("writes");
    let mut buf = [0u8; 256];
    let cut = loop {
        tokio::select! {
            read = stream.read(&mut buf) => break read,
            _ = tokio::time::sleep(Duration::from_millis(200)) => {
                if stream.write_all(b"x").await.is_err() {
                    break Ok(0);
                }
            }
        }
        assert!(started.elapsed() < Duration::from_secs(10), "never closed");
    };
    let took = started.elapsed();
    println!("a dribbled head was cut after {took:?} ({cut:?})");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "{took:?}"
    );
    if let Ok(n) = cut {
        let answer = String::from_utf8_lossy(&buf[..n]);
        assert!(n == 0 || !answer.contains(" 2"), "no success: {answer}");
    }

    // A connection that sends nothing: closed too.
    let started = Instant::now();
    let mut idle = TcpStream::connect(to).await.expect("connects");
    let read = tokio::time::timeout(Duration::from_secs(10), idle.read(&mut buf)).await;
    assert!(read.is_ok(), "an idle connection is closed");
    assert!(started.elapsed() < Duration::from_secs(5));

    // A body dribbled: 408, and the request's permit is back at once after.
    let mut body = TcpStream::connect(to).await.expect("connects");
    body.write_all(
        b"POST /v1/articles HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
    )
    .await
    .expect("writes");
    // While that request holds the only permit, another one is refused.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let refused = pipeline
        .post(
            "/v1/articles",
            "application/json",
            small("urn:slow:refused"),
        )
        .await;
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().contains_key("retry-after"));
    let problem: serde_json::Value = refused.json().await.expect("a JSON problem");
    assert_eq!(problem["error"], "overloaded");
    let status = read_status(&mut body, Duration::from_secs(10)).await;
    assert_eq!(status, Some(408), "a dribbled body");

    // A declared length over the limit: 413 without a byte of the body sent.
    let mut big = TcpStream::connect(to).await.expect("connects");
    big.write_all(
        b"POST /v1/articles HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n",
    )
    .await
    .expect("writes");
    let status = read_status(&mut big, Duration::from_secs(5)).await;
    assert_eq!(status, Some(413));

    let accepted = pipeline
        .post("/v1/articles", "application/json", small("urn:slow:after"))
        .await;
    assert_eq!(accepted.status(), 202, "the API serves on");

    let metrics = reqwest::get(format!("{}/metrics", pipeline.ingest_url))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    for line in [
        "wirestream_ingest_connections_cut_total{reason=\"header_timeout\"}",
        "wirestream_ingest_requests_refused_total{reason=\"overloaded\"}",
        "wirestream_ingest_requests_refused_total{reason=\"body_timeout\"}",
        "wirestream_ingest_requests_refused_total{reason=\"too_large\"}",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
    pipeline.stop().await;
}

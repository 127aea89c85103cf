//! The HTTP API: `POST /v1/articles` and `POST /v1/articles:batch`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Serialize;
use wirestream_formats::{parse_document, parse_ndjson, Context, ErrorKind, Hint, Limits, ParseError};
use wirestream_model::RawItem;
use wirestream_runtime::ops::Readiness;
use wirestream_runtime::Config;

use crate::metrics;
use crate::publisher::{PublishError, Publisher};

#[derive(Clone)]
pub struct ApiState {
    publisher: Publisher,
    readiness: Readiness,
    limits: Limits,
    default_provider: Option<Arc<str>>,
}

impl ApiState {
    pub fn new(publisher: Publisher, readiness: Readiness, config: &Config) -> Self {
        let limits = Limits {
            max_document_bytes: config.ingest.max_body_bytes,
            max_items: config.ingest.max_items,
            ..Limits::default()
        };
        ApiState {
            publisher,
            readiness,
            limits,
            default_provider: config.ingest.default_provider.as_deref().map(Arc::from),
        }
    }

    fn context(&self) -> Context {
        let mut ctx = Context::new("http");
        ctx.limits = self.limits.clone();
        ctx.default_provider = self.default_provider.as_deref().map(str::to_owned);
        ctx
    }
}

pub fn router(state: ApiState, max_body_bytes: usize) -> Router {
    Router::new()
        .route("/v1/articles", post(post_article))
        .route("/v1/articles:batch", post(post_batch))
        // Larger bodies are refused with 413 before they are read whole.
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(state)
}

#[derive(Serialize)]
struct Accepted {
    accepted: usize,
    ids: Vec<String>,
}

#[derive(Serialize)]
struct Problem {
    error: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<String>,
}

fn problem(status: StatusCode, error: &'static str, message: String, errors: Vec<String>) -> Response {
    (status, Json(Problem { error, message, errors })).into_response()
}

fn status_for(kind: &ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::TooLarge | ErrorKind::TooManyItems => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::UnknownFormat => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        _ => StatusCode::BAD_REQUEST,
    }
}

fn parse_problem(error: &ParseError) -> Response {
    problem(status_for(&error.kind), error.kind.code(), error.to_string(), Vec::new())
}

async fn post_article(State(state): State<ApiState>, headers: HeaderMap, body: Bytes) -> Response {
    let ctx = state.context();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let parsed = Hint::from_content_type(content_type).and_then(|hint| parse_document(&body, hint, &ctx));
    let response = match parsed {
        Ok(items) => accept(&state, &ctx.source, items).await,
        Err(error) => {
            metrics::rejected(&ctx.source, error.kind.code(), 1);
            parse_problem(&error)
        }
    };
    metrics::request("articles", response.status().as_u16());
    response
}

async fn post_batch(State(state): State<ApiState>, body: Bytes) -> Response {
    let ctx = state.context();
    let results = parse_ndjson(&body, &ctx);
    let mut items = Vec::with_capacity(results.len());
    let mut errors = Vec::new();
    for result in results {
        match result {
            Ok(item) => items.push(item),
            Err(error) => errors.push(error.to_string()),
        }
    }
    // A batch is all or nothing: the sender fixes the bad lines and sends it
    // again, rather than working out which lines got through.
    let response = if !errors.is_empty() {
        metrics::rejected(&ctx.source, "invalid_batch", items.len() + errors.len());
        problem(
            StatusCode::BAD_REQUEST,
            "invalid_batch",
            format!("{} of {} lines cannot be parsed; nothing was accepted", errors.len(), errors.len() + items.len()),
            errors,
        )
    } else if items.is_empty() {
        problem(StatusCode::BAD_REQUEST, "empty", "the batch holds no items".into(), Vec::new())
    } else if items.len() > state.limits.max_items {
        problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_items",
            format!("the batch holds {} items; the limit is {}", items.len(), state.limits.max_items),
            Vec::new(),
        )
    } else {
        accept(&state, &ctx.source, items).await
    };
    metrics::request("articles_batch", response.status().as_u16());
    response
}

/// Publishes the items and answers `202` once the broker has them all.
async fn accept(state: &ApiState, source: &str, items: Vec<RawItem>) -> Response {
    let format = items.first().map(|i| i.format.as_str()).unwrap_or("unknown");
    metrics::received(source, format, items.len());
    if !state.readiness.is_ready() {
        return unavailable("the broker is unreachable; retry later".into());
    }
    match state.publisher.publish(&items).await {
        Ok(()) => {
            let ids = items.into_iter().map(|item| item.uri).collect::<Vec<_>>();
            (StatusCode::ACCEPTED, Json(Accepted { accepted: ids.len(), ids })).into_response()
        }
        Err(PublishError::Busy(waiting)) => {
            let mut response = problem(
                StatusCode::TOO_MANY_REQUESTS,
                "busy",
                format!("{waiting} items are waiting for the broker; retry later"),
                Vec::new(),
            );
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        Err(PublishError::Unavailable(detail)) => unavailable(detail),
        Err(error @ PublishError::Encode { .. }) => {
            problem(StatusCode::INTERNAL_SERVER_ERROR, "encode", error.to_string(), Vec::new())
        }
    }
}

fn unavailable(detail: String) -> Response {
    tracing::warn!(%detail, "refusing items: broker unavailable");
    let mut response = problem(StatusCode::SERVICE_UNAVAILABLE, "broker_unavailable", detail, Vec::new());
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    response
}

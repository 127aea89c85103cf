//! The HTTP API: `POST /v1/articles` and `POST /v1/articles:batch`.

// A refusal is carried as the answer itself (`Err(Response)`) up to the
// handler; boxing every one would buy nothing on this path.
#![allow(clippy::result_large_err)]

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use serde::Serialize;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::load_shed::LoadShedLayer;
use tower::timeout::TimeoutLayer;
use tower::{BoxError, ServiceBuilder};
use wirestream_formats::{
    parse_document, parse_ndjson, Context, ErrorKind, Hint, Limits, ParseError,
};
use wirestream_model::{validate, RawItem};
use wirestream_runtime::ops::Readiness;
use wirestream_runtime::Config;

use crate::auth::{self, Caller, Tokens};
use crate::body::{self, BodyError};
use crate::metrics;
use crate::publisher::{PublishError, Publisher};

#[derive(Clone)]
pub struct ApiState {
    publisher: Publisher,
    readiness: Readiness,
    limits: Limits,
    default_provider: Option<Arc<str>>,
    body_read_timeout: Duration,
    /// Permits to parse a large body: as many as there are cores, so that
    /// large documents parse side by side without starving the async
    /// threads that answer everyone else.
    large_parses: Arc<tokio::sync::Semaphore>,
}

/// Bodies from this size on wait for one of [`ApiState::large_parses`];
/// smaller ones, parsed in well under a millisecond, never queue behind them.
const LARGE_BODY_BYTES: usize = 256 * 1024;

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
            body_read_timeout: config.ingest.body_read_timeout,
            large_parses: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            )),
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    fn context(&self, caller: &Caller) -> Context {
        let mut ctx = Context::new(caller.source.clone());
        ctx.limits = self.limits;
        ctx.default_provider = caller
            .provider
            .clone()
            .or_else(|| self.default_provider.as_deref().map(str::to_owned));
        ctx
    }

    /// The body, once the request is admitted. It is refused unread when
    /// the broker is away (`503`), when too many items wait for it (`429`)
    /// or when its `Content-Length` is over the cap (`413`); otherwise read
    /// with the cap, within `body_read_timeout`.
    async fn receive(&self, headers: &HeaderMap, body: Body) -> Result<Vec<u8>, Response> {
        let limit = self.limits.max_document_bytes;
        let declared = header_str(headers, header::CONTENT_LENGTH).and_then(|v| v.parse().ok());
        let refusal = if !self.readiness.is_ready() {
            Some((
                "unavailable",
                unavailable("the broker is unreachable; retry later".into()),
            ))
        } else if let Some(waiting) = self.publisher.busy() {
            Some(("busy", busy(waiting)))
        } else if body::declared_too_large(declared, limit) {
            Some(("too_large", body_problem(&BodyError::TooLarge { limit })))
        } else {
            None
        };
        if let Some((reason, response)) = refusal {
            metrics::refused(reason);
            // Read and dropped in the background, bounded: the client reads
            // this answer rather than a connection reset mid-upload.
            tokio::spawn(body::discard(body, limit, self.body_read_timeout));
            return Err(response);
        }
        body::read_capped(body, limit, self.body_read_timeout)
            .await
            .map_err(|error| {
                if matches!(error, BodyError::Timeout(_)) {
                    metrics::refused("body_timeout");
                }
                body_problem(&error)
            })
    }
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Decompresses the body and runs `parse` on it (parsing and checking the
/// items) on the blocking pool: a large document takes milliseconds of CPU,
/// which on an async thread would stall every connection that thread
/// serves. At most `max_concurrent_requests` run at once (each holds its
/// request's permit), and of those at most one large body per core.
async fn parse_off_thread<T: Send + 'static>(
    state: &ApiState,
    headers: &HeaderMap,
    raw: Vec<u8>,
    parse: impl FnOnce(&[u8]) -> Result<T, Response> + Send + 'static,
) -> Result<T, Response> {
    let encoding = header_str(headers, header::CONTENT_ENCODING).map(str::to_owned);
    let limit = state.limits.max_document_bytes;
    let compressed = encoding
        .as_deref()
        .is_some_and(|e| !e.trim().eq_ignore_ascii_case("identity"));
    let _permit = if raw.len() >= LARGE_BODY_BYTES || compressed {
        // Never closed, so the error cannot happen.
        state.large_parses.clone().acquire_owned().await.ok()
    } else {
        None
    };
    tokio::task::spawn_blocking(move || {
        let bytes = body::decode(encoding.as_deref(), raw, limit).map_err(|e| body_problem(&e))?;
        parse(&bytes)
    })
    .await
    .unwrap_or_else(|error| {
        tracing::error!(%error, "parsing a request failed");
        Err(problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the request could not be parsed".into(),
            Vec::new(),
        ))
    })
}

/// How many API requests run at once, and for how long.
pub struct RequestLimits {
    pub max_concurrent: usize,
    pub timeout: Duration,
}

/// The API's routes, behind the token check when tokens are configured.
/// One more request than `max_concurrent` is refused at once (`503`), not
/// queued: a queue would hold its connection and memory for nothing, while
/// the client's retry after `Retry-After` costs nothing.
pub fn router(state: ApiState, tokens: Tokens, limits: &RequestLimits) -> Router {
    Router::new()
        .route("/v1/articles", post(post_article))
        .route("/v1/articles:batch", post(post_batch))
        // The handlers read the body themselves, with the cap applied after
        // decompression too, and answer with a JSON problem.
        .layer(DefaultBodyLimit::disable())
        .route_layer(axum::middleware::from_fn_with_state(tokens, auth::require))
        // One limit for both routes (a `GlobalConcurrencyLimitLayer`).
        .route_layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(refused))
                .layer(LoadShedLayer::new())
                .layer(GlobalConcurrencyLimitLayer::new(
                    limits.max_concurrent.max(1),
                ))
                .layer(TimeoutLayer::new(limits.timeout)),
        )
        // axum's own 404 and 405 have empty bodies; docs/openapi.yaml
        // promises a JSON problem for every refusal (405 keeps its `Allow`).
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .with_state(state)
}

/// The answer to a request the limits above refused.
async fn refused(error: BoxError) -> Response {
    let (reason, message) = if error.is::<tower::load_shed::error::Overloaded>() {
        ("overloaded", "too many requests at once; retry later")
    } else if error.is::<tower::timeout::error::Elapsed>() {
        ("request_timeout", "the request took too long; retry later")
    } else {
        tracing::error!(%error, "a request failed");
        ("internal", "the request failed")
    };
    metrics::refused(reason);
    let mut response = problem(
        StatusCode::SERVICE_UNAVAILABLE,
        reason,
        message.into(),
        Vec::new(),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

async fn method_not_allowed() -> Response {
    problem(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route takes POST only".into(),
        Vec::new(),
    )
}

async fn not_found() -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such route: see docs/openapi.yaml".into(),
        Vec::new(),
    )
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
    /// The same errors as `errors`, structured, for tools that map a batch's
    /// lines back to their files (`wirestream feed`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    details: Vec<Detail>,
}

/// One rejected NDJSON line.
#[derive(Serialize)]
struct Detail {
    /// 1-based line in the request body.
    line: Option<usize>,
    /// 1-based byte column in that line.
    column: Option<usize>,
    code: &'static str,
    field: Option<String>,
    message: String,
}

impl Detail {
    fn of(error: &ParseError) -> Detail {
        let location = error.location.unwrap_or_default();
        Detail {
            line: location.line,
            column: location.column,
            code: error.code(),
            field: error.field.clone(),
            message: error.message.clone(),
        }
    }
}

fn problem(
    status: StatusCode,
    error: &'static str,
    message: String,
    errors: Vec<String>,
) -> Response {
    (
        status,
        Json(Problem {
            error,
            message,
            errors,
            details: Vec::new(),
        }),
    )
        .into_response()
}

fn body_problem(error: &BodyError) -> Response {
    let (status, code) = match error {
        BodyError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
        BodyError::InflatesTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
        BodyError::BadGzip(_) => (StatusCode::BAD_REQUEST, "invalid_encoding"),
        BodyError::UnsupportedEncoding(_) => {
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_encoding")
        }
        BodyError::Read(_) => (StatusCode::BAD_REQUEST, "unreadable_body"),
        BodyError::Timeout(_) => (StatusCode::REQUEST_TIMEOUT, "body_timeout"),
    };
    problem(status, code, error.to_string(), Vec::new())
}

fn status_for(kind: &ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::TooLarge | ErrorKind::TooManyItems => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::UnknownFormat => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        _ => StatusCode::BAD_REQUEST,
    }
}

fn parse_problem(error: &ParseError) -> Response {
    problem(
        status_for(&error.kind),
        error.kind.code(),
        error.to_string(),
        Vec::new(),
    )
}

/// The two ways items come in over HTTP.
#[derive(Clone, Copy)]
enum Route {
    /// One document (`POST /v1/articles`).
    Article,
    /// NDJSON, all or nothing (`POST /v1/articles:batch`).
    Batch,
}

impl Route {
    fn label(self) -> &'static str {
        match self {
            Route::Article => "articles",
            Route::Batch => "articles_batch",
        }
    }
}

async fn post_article(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    handle(Route::Article, &state, &caller, &headers, body).await
}

async fn post_batch(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    handle(Route::Batch, &state, &caller, &headers, body).await
}

/// Admits the request, reads its body, parses it and publishes the items.
async fn handle(
    route: Route,
    state: &ApiState,
    caller: &Caller,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    let items = match state.receive(headers, body).await {
        Ok(raw) => parse(route, state, caller, headers, raw).await,
        Err(response) => Err(response),
    };
    let response = match items {
        Ok(items) => accept(state, items).await,
        Err(response) => response,
    };
    metrics::request(route.label(), response.status().as_u16());
    response
}

/// The checked items of a body, parsed off the async threads.
async fn parse(
    route: Route,
    state: &ApiState,
    caller: &Caller,
    headers: &HeaderMap,
    raw: Vec<u8>,
) -> Result<Vec<RawItem>, Response> {
    let ctx = state.context(caller);
    let content_type = header_str(headers, header::CONTENT_TYPE)
        .unwrap_or("")
        .to_owned();
    let max_items = state.limits.max_items;
    parse_off_thread(state, headers, raw, move |body| match route {
        Route::Article => {
            let items = Hint::from_content_type(&content_type)
                .and_then(|hint| parse_document(body, hint, &ctx))
                .map_err(|error| {
                    metrics::rejected(&ctx.source, error.kind.code(), 1);
                    parse_problem(&error)
                })?;
            checked(&ctx.source, items)
        }
        Route::Batch => batch_items(&ctx.source, parse_ndjson(body, &ctx), max_items),
    })
    .await
}

/// The items of a batch, or the answer refusing it.
fn batch_items(
    source: &str,
    results: Vec<Result<RawItem, ParseError>>,
    max_items: usize,
) -> Result<Vec<RawItem>, Response> {
    let mut items = Vec::with_capacity(results.len());
    let mut errors = Vec::new();
    for result in results {
        match result {
            Ok(item) => items.push(item),
            Err(error) => errors.push(error),
        }
    }
    // A batch is all or nothing: the sender fixes the bad lines and sends it
    // again, rather than working out which lines got through.
    if !errors.is_empty() {
        metrics::rejected(source, "invalid_batch", items.len() + errors.len());
        let message = format!(
            "{} of {} lines cannot be parsed; nothing was accepted",
            errors.len(),
            errors.len() + items.len()
        );
        let problem = Problem {
            error: "invalid_batch",
            message,
            errors: errors.iter().map(ToString::to_string).collect(),
            details: errors.iter().map(Detail::of).collect(),
        };
        Err((StatusCode::BAD_REQUEST, Json(problem)).into_response())
    } else if items.is_empty() {
        Err(problem(
            StatusCode::BAD_REQUEST,
            "empty",
            "the batch holds no items".into(),
            Vec::new(),
        ))
    } else if items.len() > max_items {
        Err(problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_items",
            format!(
                "the batch holds {} items; the limit is {max_items}",
                items.len(),
            ),
            Vec::new(),
        ))
    } else {
        checked(source, items)
    }
}

/// Counts the items received and refuses them all when one cannot be
/// stored (it scans every text, so it runs with the parsing, off the async threads).
fn checked(source: &str, items: Vec<RawItem>) -> Result<Vec<RawItem>, Response> {
    let format = items
        .first()
        .map(|i| i.format.as_str())
        .unwrap_or("unknown");
    metrics::received(source, format, items.len());
    match unstorable(source, &items) {
        Some(response) => Err(response),
        None => Ok(items),
    }
}

/// Publishes checked items and answers `202` once the broker has them all.
async fn accept(state: &ApiState, items: Vec<RawItem>) -> Response {
    if !state.readiness.is_ready() {
        return unavailable("the broker is unreachable; retry later".into());
    }
    match state.publisher.publish(&items).await {
        Ok(()) => {
            let ids = items.into_iter().map(|item| item.uri).collect::<Vec<_>>();
            (
                StatusCode::ACCEPTED,
                Json(Accepted {
                    accepted: ids.len(),
                    ids,
                }),
            )
                .into_response()
        }
        Err(PublishError::Busy(waiting)) => busy(waiting),
        Err(PublishError::Unavailable(detail)) => unavailable(detail),
        Err(error @ PublishError::TooLarge { .. }) => problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            error.to_string(),
            Vec::new(),
        ),
        Err(error @ PublishError::Refused { .. }) => problem(
            StatusCode::BAD_REQUEST,
            "rejected_by_broker",
            error.to_string(),
            Vec::new(),
        ),
        Err(error @ PublishError::Encode { .. }) => problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "encode",
            error.to_string(),
            Vec::new(),
        ),
    }
}

/// A `400` naming the first field PostgreSQL or Kafka cannot take, in any
/// item (the rules are `wirestream_model::validate`, which the worker
/// applies too); `None` when every item can be stored.
fn unstorable(source: &str, items: &[RawItem]) -> Option<Response> {
    let errors: Vec<(usize, validate::Invalid)> = items
        .iter()
        .enumerate()
        .filter_map(|(n, item)| validate::check(item).err().map(|e| (n, e)))
        .collect();
    let (first, error) = errors.first()?;
    metrics::rejected(source, "invalid_field", items.len());
    let message = if items.len() == 1 {
        format!("the item cannot be stored: {error}")
    } else {
        format!(
            "{} of {} items cannot be stored (item {}: {error}); nothing was accepted",
            errors.len(),
            items.len(),
            first + 1
        )
    };
    let problem = Problem {
        error: "invalid_field",
        message,
        errors: errors
            .iter()
            .map(|(n, e)| format!("item {}: {e}", n + 1))
            .collect(),
        details: errors
            .iter()
            .map(|(_, e)| Detail {
                line: None,
                column: None,
                code: "invalid_field",
                field: Some(e.field.clone()),
                message: e.to_string(),
            })
            .collect(),
    };
    Some((StatusCode::BAD_REQUEST, Json(problem)).into_response())
}

fn busy(waiting: usize) -> Response {
    let mut response = problem(
        StatusCode::TOO_MANY_REQUESTS,
        "busy",
        format!("{waiting} items are waiting for the broker; retry later"),
        Vec::new(),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

fn unavailable(detail: String) -> Response {
    tracing::warn!(%detail, "refusing items: broker unavailable");
    let mut response = problem(
        StatusCode::SERVICE_UNAVAILABLE,
        "broker_unavailable",
        detail,
        Vec::new(),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    response
}

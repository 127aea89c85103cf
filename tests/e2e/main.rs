//! End-to-end tests: the real ingest, worker and sink binaries against the
//! real broker and PostgreSQL of the local stack (`make test`).

mod malformed;
mod seed;
mod verdicts;

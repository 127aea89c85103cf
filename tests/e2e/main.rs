//! End-to-end tests: the real ingest, worker and sink binaries against the
//! real broker and PostgreSQL of the local stack (`make test`).

mod cli;
mod dashboards;
mod determinism;
mod dlq;
mod faults;
mod formats_golden;
mod hostile;
mod ingest_cli;
mod ingest_feeds;
mod ingest_formats;
mod ingest_http;
mod ingest_malformed;
mod ingest_outage;
mod ingest_reuters;
mod ingest_spool;
mod kafka_contract;
mod kafka_security;
mod large_items;
mod malformed;
mod metrics;
mod openapi;
mod pg_security;
mod report;
mod resume;
mod secrets;
mod seed;
mod sink;
mod slow_clients;
mod startup;
mod top;
mod verdicts;

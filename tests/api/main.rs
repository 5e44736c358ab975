//! Integration tests: the real HTTP application against real PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod advisor;
mod auth;
mod authz;
mod errors;
mod faults;
mod i18n;
mod instances;
mod invitations;
mod logs;
mod matches;
mod openapi;
mod operations;
mod partners;
mod products;
mod relationships;
mod statements;
mod subscriptions;
mod tenants;

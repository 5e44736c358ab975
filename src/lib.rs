//! partnerlink: the system of record for the partners of Microsoft-365-style subscriptions.

pub mod api;
pub mod app;
pub mod auth;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod extract;
pub mod i18n;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod openapi30;
pub mod telemetry;
pub mod validation;

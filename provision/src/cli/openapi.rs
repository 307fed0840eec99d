//! `provision openapi`: print the OpenAPI 3.1 document the service serves at `/openapi.json`.

use std::process::ExitCode;

pub(super) fn run() -> ExitCode {
    println!("{}", crate::api::openapi::json());
    ExitCode::SUCCESS
}

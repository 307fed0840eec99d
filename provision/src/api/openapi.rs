//! The OpenAPI 3.1 document of the API, generated from the handlers' `#[utoipa::path]`
//! annotations plus the few things derive macros cannot say (common error responses).
//! It is served live at `GET /openapi.json` and is a supported contract: a test compares
//! it with the router's route table in both directions.

use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, ResponseBuilder, Schema};
use utoipa::{IntoParams, Modify, OpenApi, PartialSchema, ToSchema};

use super::error::{ErrorBody, ErrorObject};
use super::types::*;
use crate::jobs::{JobEvent, JobKind, JobSnapshot, JobState, Rollback, StepStatus};
use crate::store::GenerationInfo;

/// `info.version` of the document; bumps on any incompatible change.
pub const API_VERSION: &str = "1.0.0";

/// Raw bytes in a request body (a bundle).
#[derive(Debug)]
pub struct Binary;

impl PartialSchema for Binary {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl ToSchema for Binary {}

/// The signature headers of a signed route (see "Request signing" in the API guide).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct SignatureHeaders {
    /// A nonce from `GET /api/nonce`, single-use, valid for 300 s.
    #[param(rename = "Cairn-Nonce", pattern = "^[0-9a-f]{32}$")]
    cairn_nonce: String,
    /// Base64 of the armored SSH signature (`ssh-keygen -Y sign -n cairn-provision`) over
    /// `cairn-request-v1\nmethod:…\npath:…\nquery:…\nnonce:…\nsha256:<hex of the body>\n`.
    #[param(rename = "Cairn-Signature", pattern = "^[A-Za-z0-9+/]+={0,2}$")]
    cairn_signature: String,
}

/// The signature headers of a route that is open before the first apply and signed after.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct OptionalSignatureHeaders {
    /// A nonce from `GET /api/nonce`; required once the device is provisioned.
    #[param(rename = "Cairn-Nonce", pattern = "^[0-9a-f]{32}$", required = false)]
    cairn_nonce: String,
    /// Base64 of the armored SSH signature over the request; required once the device is provisioned.
    #[param(rename = "Cairn-Signature", pattern = "^[A-Za-z0-9+/]+={0,2}$", required = false)]
    cairn_signature: String,
}

#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Cairn provisioning API",
        version = "1.0.0",
        description = "Declarative provisioning of a Cairn device: submit config.toml, follow the job, \
            roll generations back or forward. Mutating and state-revealing routes are signed with an \
            admin's SSH key once the device is provisioned.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        super::routes::health,
        super::routes::status,
        super::routes::get_nonce,
        super::routes::apply_config,
        super::routes::get_config,
        super::routes::validate_config,
        super::routes::list_generations,
        super::routes::activate_generation,
        super::routes::get_job,
        super::routes::stream_job_events,
        super::routes::get_openapi,
    ),
    components(schemas(
        ErrorBody, ErrorObject, Health, NonceResponse, JobAccepted, DiagnosticSchema, ValidateOk, ValidateFailed,
        Versions, StatusResponse, GenerationList, GenerationInfo, JobSnapshot, JobEvent, JobKind, JobState,
        Rollback, StepStatus,
    )),
    modifiers(&CommonResponses),
    tags(
        (name = "service", description = "Health and the contract itself"),
        (name = "auth", description = "Nonces for request signing"),
        (name = "config", description = "Validate and apply config.toml"),
        (name = "device", description = "Device status"),
        (name = "generations", description = "Kept generations, rollback"),
        (name = "jobs", description = "Apply and activation jobs"),
    ),
)]
pub struct ApiDoc;

/// Adds the responses every route can give: 500 (internal) and 503 (timeout, shutting down).
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    utoipa::openapi::ContentBuilder::new().schema(Some(ErrorBody::schema_ref())).build(),
                )
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            for op in operations_mut(item) {
                op.responses.responses.insert("500".into(), error("Internal error").into());
                if op.operation_id.as_deref() != Some("stream_job_events") {
                    op.responses
                        .responses
                        .insert("503".into(), error("Timed out or shutting down; retry (see `Retry-After`)").into());
                }
            }
        }
    }
}

trait SchemaRef {
    fn schema_ref() -> RefOr<Schema>;
}

impl<T: ToSchema> SchemaRef for T {
    fn schema_ref() -> RefOr<Schema> {
        RefOr::Ref(utoipa::openapi::Ref::from_schema_name(T::name()))
    }
}

fn operations_mut(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(|o| o.as_mut())
}

/// `(METHOD, path)` of every operation in a document.
#[cfg(test)]
pub fn operations(doc: &utoipa::openapi::OpenApi) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, item) in &doc.paths.paths {
        let ops = [
            ("GET", &item.get),
            ("PUT", &item.put),
            ("POST", &item.post),
            ("DELETE", &item.delete),
            ("OPTIONS", &item.options),
            ("HEAD", &item.head),
            ("PATCH", &item.patch),
            ("TRACE", &item.trace),
        ];
        for (method, op) in ops {
            if op.is_some() {
                out.push((method.to_owned(), path.clone()));
            }
        }
    }
    out.sort();
    out
}

/// The document as served.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The document as JSON text. Media types of a request body are listed with
/// `application/octet-stream` last: generators that emit one `isinstance` branch per
/// media type (openapi-python-client) then label raw bytes with the neutral type.
pub fn json() -> String {
    let doc = serde_json::to_value(document()).expect("the OpenAPI document serializes");
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, serde_json::ser::PrettyFormatter::new());
    serde::Serialize::serialize(&OctetsLast(&doc), &mut serializer).expect("the OpenAPI document serializes");
    String::from_utf8(out).expect("JSON is UTF-8")
}

/// Serializes a JSON value with object keys in their map order, except that
/// `application/octet-stream` comes after its sibling keys.
struct OctetsLast<'a>(&'a serde_json::Value);

impl serde::Serialize for OctetsLast<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.0 {
            serde_json::Value::Object(map) => {
                let mut m = serializer.serialize_map(Some(map.len()))?;
                let octets = "application/octet-stream";
                for (k, v) in map.iter().filter(|(k, _)| k.as_str() != octets) {
                    m.serialize_entry(k, &OctetsLast(v))?;
                }
                if let Some(v) = map.get(octets) {
                    m.serialize_entry(octets, &OctetsLast(v))?;
                }
                m.end()
            }
            serde_json::Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&OctetsLast(item))?;
                }
                seq.end()
            }
            other => other.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::RouteKind;

    #[test]
    fn route_table_and_spec_agree() {
        let table = crate::api::routes();
        let mut routes: Vec<(String, String)> = table
            .routes
            .iter()
            .filter(|(_, _, kind)| *kind == RouteKind::Api)
            .map(|(m, p, _)| (m.to_string(), p.to_string()))
            .collect();
        routes.sort();
        let spec = operations(&document());
        let missing_in_spec: Vec<_> = routes.iter().filter(|r| !spec.contains(r)).collect();
        let missing_in_router: Vec<_> = spec.iter().filter(|s| !routes.contains(s)).collect();
        assert!(missing_in_spec.is_empty(), "routes without an OpenAPI operation: {missing_in_spec:?}");
        assert!(missing_in_router.is_empty(), "OpenAPI operations without a route: {missing_in_router:?}");
        // Boot UI routes are excluded from the contract and must stay under / or /ui/.
        for (_, path, kind) in &table.routes {
            if *kind == RouteKind::Ui {
                assert!(*path == "/" || path.starts_with("/ui/"), "Boot UI route outside /ui/: {path}");
            }
        }
    }

    #[test]
    fn document_is_3_1_with_stable_operation_ids() {
        let v: serde_json::Value = serde_json::from_str(&json()).unwrap();
        assert_eq!(v["openapi"], "3.1.0");
        let mut ids = Vec::new();
        for item in v["paths"].as_object().unwrap().values() {
            for op in item.as_object().unwrap().values() {
                if let Some(id) = op.get("operationId") {
                    ids.push(id.as_str().unwrap().to_owned());
                }
            }
        }
        ids.sort();
        assert_eq!(
            ids,
            [
                "activate_generation",
                "apply_config",
                "get_config",
                "get_health",
                "get_job",
                "get_nonce",
                "get_openapi",
                "get_status",
                "list_generations",
                "stream_job_events",
                "validate_config"
            ]
        );
        let post = &v["paths"]["/api/config"]["post"];
        for ct in ["application/toml", "application/octet-stream", "application/gzip", "application/zstd"] {
            assert!(post["requestBody"]["content"][ct].is_object(), "{ct}");
        }
        let params: Vec<_> = post["parameters"].as_array().unwrap().iter().map(|p| p["name"].clone()).collect();
        assert_eq!(params, ["Cairn-Nonce", "Cairn-Signature"]);
        for (path, item) in v["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                for (status, response) in op["responses"].as_object().unwrap() {
                    if status.starts_with('4') || status.starts_with('5') {
                        let schema = &response["content"]["application/json"]["schema"]["$ref"];
                        assert!(
                            schema == "#/components/schemas/ErrorBody"
                                || schema == "#/components/schemas/ValidateFailed",
                            "{method} {path} {status}: {schema}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn diagnostic_schema_matches_the_serialized_diagnostic() {
        let validated = cairn_config::validate(b"version = 2\n");
        let d = serde_json::to_value(&validated.diagnostics[0]).unwrap();
        let mut keys: Vec<_> = d.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        let doc: serde_json::Value = serde_json::from_str(&json()).unwrap();
        let mut schema: Vec<_> = doc["components"]["schemas"]["DiagnosticSchema"]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        schema.sort();
        assert_eq!(keys, schema);
    }
}

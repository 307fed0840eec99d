// Compiles only if openapi-typescript produced every operation with the shapes we rely on.
import type { paths, components, operations } from "./cairn.d.ts";

type Json<P extends keyof paths, M extends keyof paths[P], S extends number> =
  paths[P][M] extends { responses: infer R }
    ? S extends keyof R ? R[S] extends { content: { "application/json": infer B } } ? B : never : never
    : never;

const accepted: Json<"/api/config", "post", 202> = { job_id: "0".repeat(32), state: "queued", job_url: "/api/jobs/x" };
const job: components["schemas"]["JobSnapshot"] | null = null;
const failed: Json<"/api/validate", "post", 422> = {
  ok: false,
  diagnostics: [{ severity: "error", path: "version", line: 1, col: 11, message: "must be 1", hint: null }],
  error: { code: "invalid_config", message: "invalid", details: null },
};
const err: components["schemas"]["ErrorBody"] = { error: { code: "busy", message: "busy", details: { running_job: "x" } } };
const health: Json<"/api/health", "get", 200> = { status: "ok" };
const nonce: Json<"/api/nonce", "get", 200> = { nonce: "n", expires_in: 300 };
type Headers = operations["apply_config"]["parameters"]["header"];
const headers: Headers = { "Cairn-Nonce": "n", "Cairn-Signature": "s" };
type Ops = keyof operations;
const all: Ops[] = [
  "get_health", "get_status", "get_nonce", "apply_config", "get_config", "validate_config",
  "list_generations", "activate_generation", "get_job", "stream_job_events", "get_openapi",
];
const body: operations["apply_config"]["requestBody"] = { content: { "application/toml": "version = 1" } } as never;
console.log(accepted, job, failed, err, health, nonce, headers, all, body);

"""Drives a fresh, unprovisioned `provision serve --activator none` with the client that
openapi-python-client generated from its live /openapi.json: first-boot apply, job
polling, then a signed re-apply (signed with the real `ssh-keygen -Y sign`), export,
generations, and the refusals (unsigned, replayed, non-admin).

Env: CAIRN_URL. Needs ssh-keygen.
"""
import base64
import hashlib
import io
import os
import subprocess
import sys
import tempfile
import time

from cairn_client import Client
from cairn_client.api.auth import get_nonce
from cairn_client.api.config import apply_config, get_config, validate_config
from cairn_client.api.device import get_status
from cairn_client.api.generations import list_generations
from cairn_client.api.jobs import get_job
from cairn_client.api.service import get_health
from cairn_client.models import ErrorBody, JobAccepted, JobSnapshot, JobState, StatusResponse, ValidateFailed, ValidateOk
from cairn_client.types import File

URL = os.environ["CAIRN_URL"]
client = Client(base_url=URL, timeout=30.0)
tmp = tempfile.mkdtemp()
results = []


def check(name, condition, detail=""):
    results.append((name, bool(condition)))
    print(("ok   " if condition else "FAIL ") + name + ("" if condition else f"\n     {detail}"))


def keygen(name):
    path = os.path.join(tmp, name)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path], check=True)
    return path, open(path + ".pub").read().strip()


def config(*keys):
    users = "".join(
        f'\n[users.admin{i}]\nisAdmin = true\nssh_key = "{key}"\n' for i, key in enumerate(keys)
    )
    return (
        "version = 1\n" + users + '\n[activation]\nrequired = ["web"]\n\n'
        "[containers.container.web]\nprivileged = false\n\n"
        '[containers.container.web.Container]\nImage = "docker.io/library/nginx:1.27"\nPublishPort = "8080:80"\n'
    ).encode()


def body(data):
    return File(payload=io.BytesIO(data), file_name="config.toml", mime_type="application/toml")


def sign(key, method, path, data=b"", query=""):
    """Cairn-Nonce and Cairn-Signature for one request, exactly as API.md says."""
    nonce = get_nonce.sync(client=client).nonce
    message = (
        f"cairn-request-v1\nmethod:{method}\npath:{path}\nquery:{query}\nnonce:{nonce}\n"
        f"sha256:{hashlib.sha256(data).hexdigest()}\n"
    )
    signed = subprocess.run(
        ["ssh-keygen", "-Y", "sign", "-n", "cairn-provision", "-f", key],
        input=message.encode(), capture_output=True, check=True,
    )
    return nonce, base64.b64encode(signed.stdout).decode()


def wait(job_id, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = get_job.sync(id=job_id, client=client)
        if isinstance(job, JobSnapshot) and job.state in (JobState.SUCCEEDED, JobState.FAILED):
            return job
        time.sleep(0.1)
    raise TimeoutError(job_id)


admin_key, admin_pub = keygen("admin")
second_key, second_pub = keygen("second")
stranger_key, _ = keygen("stranger")

check("health", get_health.sync(client=client).status == "ok")
status = get_status.sync(client=client)
check("unprovisioned status is open", isinstance(status, StatusResponse) and status.provisioned is False, status)

bad = validate_config.sync_detailed(client=client, body=body(b"version = 2\n"))
check("validate reports diagnostics (422)", bad.status_code == 422 and isinstance(bad.parsed, ValidateFailed)
      and bad.parsed.diagnostics and bad.parsed.diagnostics[0].line == 1, bad.content)

first = config(admin_pub)
ok = validate_config.sync_detailed(client=client, body=body(first))
check("validate accepts a good config (200)", ok.status_code == 200 and isinstance(ok.parsed, ValidateOk), ok.content)

r = apply_config.sync_detailed(client=client, body=body(first))
check("first-boot apply is accepted unsigned (202 + Location)", r.status_code == 202 and isinstance(r.parsed, JobAccepted)
      and r.headers.get("location") == r.parsed.job_url, r.content)
job = wait(r.parsed.job_id)
check("first-boot job succeeded", job.state == JobState.SUCCEEDED and job.generation is not None, job.to_dict())

r = get_status.sync_detailed(client=client)
check("status needs a signature once provisioned (401)", r.status_code == 401 and isinstance(r.parsed, ErrorBody), r.content)
nonce, sig = sign(admin_key, "GET", "/api/status")
r = get_status.sync_detailed(client=client, cairn_nonce=nonce, cairn_signature=sig)
check("signed status", r.status_code == 200 and r.parsed.provisioned is True, r.content)

second = config(admin_pub, second_pub)
r = apply_config.sync_detailed(client=client, body=body(second))
check("unsigned re-apply is refused (401)", r.status_code == 401, r.content)
nonce, sig = sign(stranger_key, "POST", "/api/config", second)
r = apply_config.sync_detailed(client=client, body=body(second), cairn_nonce=nonce, cairn_signature=sig)
check("re-apply signed by a non-admin is refused (401)", r.status_code == 401, r.content)
# The stranger's failed attempt did not burn the nonce... but it was the stranger's own; an
# admin signs with a fresh one.
nonce, sig = sign(admin_key, "POST", "/api/config", second)
r = apply_config.sync_detailed(client=client, body=body(second), cairn_nonce=nonce, cairn_signature=sig)
check("signed re-apply is accepted (202)", r.status_code == 202, r.content)
job = wait(r.parsed.job_id)
check("signed re-apply succeeded", job.state == JobState.SUCCEEDED, job.to_dict())
r = apply_config.sync_detailed(client=client, body=body(second), cairn_nonce=nonce, cairn_signature=sig)
check("replaying the signed request is refused (401)", r.status_code == 401, r.content)

nonce, sig = sign(second_key, "GET", "/api/config")
r = get_config.sync_detailed(client=client, cairn_nonce=nonce, cairn_signature=sig)
check("the new admin can export the exact config bytes", r.status_code == 200 and r.content == second, r.content[:200])

nonce, sig = sign(admin_key, "GET", "/api/generations")
r = list_generations.sync_detailed(client=client, cairn_nonce=nonce, cairn_signature=sig)
check("generations list both generations", r.status_code == 200 and len(r.parsed.generations) >= 2
      and r.parsed.current == job.generation, r.content)

failed = sum(1 for _, ok in results if not ok)
print(f"generated python client: {len(results) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)

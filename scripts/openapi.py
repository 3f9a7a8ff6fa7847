#!/usr/bin/env python3
# Writes the OpenAPI 3.1 description the gateway serves (Services/api-gateway/openapi.json):
#   python3 scripts/openapi.py > Services/api-gateway/openapi.json
# Keep it true: a route added or changed in Services/api-gateway is described here too.
import json
def ref(n): return {"$ref": f"#/components/schemas/{n}"}
def resp(desc, schema=None, ctype="application/json"):
    r = {"description": desc}
    if schema is not None: r["content"] = {ctype: {"schema": schema}}
    return r
E = lambda: resp("error", ref("Error"))
def errs(*codes):
    names = {400:"bad request",401:"missing or invalid API key",403:"the key's role may not do this, or a host outside ICESHELVES_ALLOWED_HOSTS",404:"not found",409:"conflict with the current state",413:"body too large",429:"too many active deployments on the cluster, or too many failed authentications from this address",503:"a service behind the gateway did not answer"}
    return {str(c): resp(names[c], ref("Error")) for c in codes}
def op(summary, ok_code, ok_schema, codes, params=None, body=None, tags=None, security=True, ok_desc="success", ctype="application/json"):
    o = {"summary": summary, "responses": {str(ok_code): resp(ok_desc, ok_schema, ctype)}}
    if 401 in codes and 429 not in codes: codes = (*codes, 429)  # repeated failed authentications from one address
    o["responses"].update(errs(*codes))
    if params: o["parameters"] = params
    if body: o["requestBody"] = body
    if tags: o["tags"] = tags
    if not security: o["security"] = []
    return o
def qp(name, schema, desc=""): return {"name": name, "in": "query", "required": False, "schema": schema, "description": desc}
def pp(name, schema): return {"name": name, "in": "path", "required": True, "schema": schema}
def jbody(schema, required=True): return {"required": required, "content": {"application/json": {"schema": schema}}}
S = lambda t, **k: dict({"type": t}, **k)
N = lambda t: {"type": [t, "null"]}
page = [qp("page", S("integer", minimum=1, maximum=1000000)), qp("per_page", S("integer", minimum=1, maximum=100))]
# Cluster registration (POST /clusters): the fields every body may carry, as the gateway decodes them.
INT64 = {"minimum": -2**63, "maximum": 2**63 - 1}
def nullable(schema): return dict(schema, enum=schema["enum"] + [None]) if "enum" in schema else dict(schema, type=[schema["type"], "null"])
# Swift's CharacterSet.whitespaces (Zs and tab), trimmed off the name; Character.isWhitespace (Unicode White_Space), refused in ssh_host.
ZS_TAB = "\\t \\u00a0\\u1680\\u2000-\\u200a\\u202f\\u205f\\u3000"
WHITE_SPACE = "\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
PEM = lambda marker, desc: S("string", pattern=marker, maxLength=65536, description=desc)
cluster_fields = {
    "name": S("string", minLength=1, maxLength=100, pattern=f"[^{WHITE_SPACE}]", description="1-100 characters once leading and trailing blanks and newlines are trimmed"),
    "description": nullable(S("string", maxLength=2000)),
    "endpoint_url": nullable(S("string")), "auth_type": nullable(S("string")), "client_cert": nullable(S("string")),
    "client_key": nullable(S("string", writeOnly=True)), "server_cert": nullable(S("string")), "server_fingerprint": nullable(S("string")),
    "verify_ssl": nullable(S("boolean")), "is_cluster": nullable(S("boolean")), "ssh_host": nullable(S("string")),
    "ssh_port": nullable(S("integer", **INT64)), "ssh_user": nullable(S("string")), "ssh_key": nullable(S("string", writeOnly=True)),
    "ssh_host_key_fingerprint": nullable(S("string")), "socket_path": nullable(S("string")), "agent_poll_interval": nullable(S("integer", **INT64)),
    "hypervisor": nullable({"enum": ["lxd"]}), "libvirt_uri": nullable(S("string")), "storage_pool": nullable(S("string")),
    "network": nullable(S("string")), "domain_type": nullable(S("string")), "ssh_host_key": nullable(S("string")), "ca_cert": nullable(S("string")),
}
LIBVIRT_NAME = lambda desc: nullable(S("string", pattern="^[A-Za-z0-9._-]{1,64}$", description=desc))
SOCKET_PATH = nullable(S("string", pattern="^/[^\\u0000]*$", maxLength=1024, description="an absolute path; default /var/lib/lxd/unix.socket"))
def cluster_method(method, desc, required=(), **props):
    return {"type": "object", "description": desc, "required": ["name", "connection_method", *required],
            "properties": dict(cluster_fields, connection_method={"const": method}, **props)}
cluster_methods = {
 "direct-api": ("ClusterCreateDirectAPI", cluster_method("direct-api",
    "LXD's HTTPS API with a client certificate; the server pinned by server_cert or server_fingerprint, unless verify_ssl is false",
    ["endpoint_url", "client_cert", "client_key"],
    endpoint_url=S("string", pattern="^https://([A-Za-z0-9.-]+|\\[[0-9A-Fa-f:.]+\\])(:[1-9][0-9]{0,3})?/?$",
                   description="https://host:port; the host must be allowed by ICESHELVES_ALLOWED_HOSTS"),
    auth_type=nullable({"enum": ["certificate"]}),
    client_cert=PEM("BEGIN CERTIFICATE", "PEM certificate"), client_key=dict(PEM("PRIVATE KEY", "PEM private key"), writeOnly=True),
    server_cert=nullable(PEM("BEGIN CERTIFICATE", "the server's PEM certificate to pin")),
    server_fingerprint=nullable(S("string", pattern="^:*([0-9A-Fa-f]:*){64}$", description="the server certificate's SHA-256 in hex, colons allowed"))),
    ),
 "ssh": ("ClusterCreateSSH", cluster_method("ssh", "an SSH tunnel to the remote LXD unix socket, the host key pinned",
    ["ssh_host", "ssh_user", "ssh_key", "ssh_host_key_fingerprint"],
    ssh_host=S("string", pattern=f"^[^{WHITE_SPACE}/]{{1,255}}$", description="the host must be allowed by ICESHELVES_ALLOWED_HOSTS"),
    ssh_port=nullable(S("integer", minimum=1, maximum=65535, description="default 22")), ssh_user=S("string", minLength=1, maxLength=64),
    ssh_key=dict(PEM("PRIVATE KEY", "PEM or OpenSSH private key"), writeOnly=True),
    ssh_host_key_fingerprint=S("string", pattern="^SHA256:", maxLength=80, description="as ssh-keygen -lf prints it"),
    socket_path=SOCKET_PATH)),
 "unix-socket": ("ClusterCreateUnixSocket", cluster_method("unix-socket", "the LXD unix socket on the deployer's machine", socket_path=SOCKET_PATH)),
 "agent-poll": ("ClusterCreateAgentPoll", cluster_method("agent-poll", "an agent on the hypervisor polls for work; hypervisor kvm for an agent that deploys to its local libvirt",
    agent_poll_interval=nullable(S("integer", minimum=1, maximum=600, description="seconds, default 300")),
    hypervisor=nullable({"enum": ["lxd", "kvm"], "description": "lxd (default), or kvm: the agent deploys VMs to the hypervisor's libvirt"}))),
 "libvirt": ("ClusterCreateKVM", cluster_method("libvirt",
    "a KVM cluster (hypervisor kvm) through libvirt: qemu:///system on the deployer's machine; qemu+ssh://user@host[:port]/system with "
    "ssh_key and the pinned ssh_host_key; qemu+tls://host[:port]/system with client_cert, client_key and ca_cert; qemu+tcp:// only when "
    "the gateway runs with --allow-insecure-libvirt 1 (tests). No URI parameters (?...). See docs/kvm-deployer.md",
    ["libvirt_uri"],
    hypervisor=nullable({"enum": ["kvm"]}),
    libvirt_uri=S("string", pattern="^qemu(\\+ssh|\\+tls|\\+tcp)?://[^?#]*$", maxLength=1024,
                  description="the host, if any, must be allowed by ICESHELVES_ALLOWED_HOSTS"),
    storage_pool=LIBVIRT_NAME("the pool holding the base images and the VMs' volumes; default default"),
    network=LIBVIRT_NAME("the libvirt network of the VMs' NIC; default default"),
    domain_type=nullable({"enum": ["kvm", "qemu"], "description": "kvm (default), or qemu (software emulation) where KVM is unavailable"}),
    ssh_key=nullable(dict(PEM("PRIVATE KEY", "qemu+ssh: PEM or OpenSSH private key"), writeOnly=True)),
    ssh_host_key=nullable(S("string", pattern="^(ssh-|ecdsa-)[^ ]+ [A-Za-z0-9+/=]+", maxLength=8300, description="qemu+ssh: the host key as in known_hosts")),
    client_cert=nullable(PEM("BEGIN CERTIFICATE", "qemu+tls: the client's PEM certificate")),
    client_key=nullable(dict(PEM("PRIVATE KEY", "qemu+tls: the client's PEM key"), writeOnly=True)),
    ca_cert=nullable(PEM("BEGIN CERTIFICATE", "qemu+tls: the CA's PEM certificate")))),
}
# direct-api: a pin (server_cert or server_fingerprint) or verify_ssl: false.
cluster_methods["direct-api"][1]["anyOf"] = [
    {"required": ["server_cert"], "properties": {"server_cert": S("string")}},
    {"required": ["server_fingerprint"], "properties": {"server_fingerprint": S("string")}},
    {"required": ["verify_ssl"], "properties": {"verify_ssl": {"const": False}}}]
cluster_schemas = {name: schema for name, schema in cluster_methods.values()}
cluster_schemas["ClusterCreate"] = {"oneOf": [ref(name) for name, _ in cluster_methods.values()],
    "discriminator": {"propertyName": "connection_method", "mapping": {m: f"#/components/schemas/{name}" for m, (name, _) in cluster_methods.items()}}}
# POST /deploy: instance names follow LXD's rule (InstanceNameRule); a batch (count > 1) names its
# instances from name_pattern ({n} is 1, 2, ...) or from instance_name as <instance_name>-{n}.
NAME_RULE = "^[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
deploy_request = {"type": "object", "required": ["egg_id", "cluster_id"], "properties": {
    "egg_id": {"oneOf": [S("integer", **INT64), S("string")]}, "egg_version": nullable(S("string")), "cluster_id": {"oneOf": [S("integer", **INT64), S("string")]},
    "instance_name": nullable(S("string", pattern=NAME_RULE, description="LXD rule: letters, digits and hyphens, 1-63, a letter first, no hyphen last")),
    "target_member": nullable(S("string", pattern=NAME_RULE)),
    "config_overrides": {"type": ["object", "null"], "additionalProperties": S("string", maxLength=65536),
        "propertyNames": {"pattern": "^[A-Za-z0-9._-]{1,256}$", "not": {"pattern": "^(user\\.iceshelves\\.|cloud-init\\.|user\\.(user-data|vendor-data|network-config|meta-data)$)"}},
        "description": "LXD config keys; IceShelves' own keys (user.iceshelves.*, cloud-init.*, user.user-data, ...) are refused"},
    "variables": {"oneOf": [ref("Variables"), {"type": "null"}]},
    "hostname": nullable(S("string")), "ssh_authorized_keys": nullable(S("array", items=S("string"))), "packages": nullable(S("array", items=S("string"))),
    "timezone": nullable(S("string")), "cloud_config": nullable(S("string")), "image": nullable(S("string", minLength=1, maxLength=256)),
    "keep_on_failure": nullable(S("boolean")), "deployment_type": nullable({"enum": ["lxd", "kvm"]}),
    "count": nullable(S("integer", minimum=1, maximum=50)),
    "name_pattern": nullable(S("string", maxLength=63, pattern="^[A-Za-z](([A-Za-z0-9-]|\\{n\\})*([A-Za-z0-9]|\\{n\\}))?$", description="{n} becomes 1, 2, ..."))},
  "if": {"required": ["count"], "properties": {"count": S("integer", minimum=2)}},
  "then": {"anyOf": [{"required": ["name_pattern"], "properties": {"name_pattern": S("string", pattern="\\{n\\}")}},
                     {"required": ["instance_name"], "properties": {"instance_name": S("string", maxLength=60), "name_pattern": {"type": "null"}}}]},
  "else": {"anyOf": [{"required": ["name_pattern"], "properties": {"name_pattern": S("string")}},
                     {"required": ["instance_name"], "properties": {"instance_name": S("string"), "name_pattern": {"type": "null"}}}]},
}
# An entry of a cluster's host-access allow-list (HostAccess.isKnownAllowEntry): a dangerous key, a
# key or `prefix.*` under a dangerous prefix, or a host device type.
HOST_ACCESS_ENTRY = "^(security\\.privileged|security\\.nesting|linux\\.kernel_modules|(raw|security\\.idmap|security\\.syscalls)\\.[A-Za-z0-9._*-]+|devices\\.(disk|proxy|unix-char|unix-block|unix-hotplug|gpu|usb|pci|infiniband))$"
STATUSES = ["pending", "rendering", "queued", "in_progress", "completed", "failed", "cancelled", "timeout"]
STEPS = ["request", "submit", "render", "accept", "validate", "connect", "inspect", "resume", "image", "profile", "placement", "create", "start", "cloud-init", "info", "done", "cleanup", "cancel", "timeout", "deploy"]
LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
envelope = lambda props, req=[]: {"type": "object", "required": ["success"] + req, "properties": dict({"success": {"const": True}, "data": {"type": "object"}}, **props)}
schemas = {
 "DeadLetter": {"type": "object", "required": ["id", "queue", "reason", "detail", "count", "requeues", "dead_at"], "properties": {
    "id": S("string", description="dl- and 16 hex digits"), "queue": {"enum": ["deploy.render", "deploy.lxd", "deploy.kvm", "deploy.agent"]},
    "deployment_id": S("string", description="absent when the job named none (or was not an envelope)"), "deployment_status": S("string"),
    "reason": S("string", description="delivery_limit: its consumers kept dying; rejected: a consumer gave up on it; expired, maxlen"),
    "detail": S("string"), "count": S("integer", description="deliveries (delivery_limit) or handler attempts (rejected)"),
    "requeues": S("integer", description="how often an admin requeued it before"), "message_type": S("string"), "dead_at": S("string")}},
 "Error": {"type": "object", "required": ["success", "error", "code"], "properties": {"success": {"const": False}, "error": S("string"), "code": S("integer")}},
 "Egg": {"type": "object", "required": ["id", "name", "display_name", "description", "version", "category", "egg_type", "is_active", "created_on"], "properties": {
    "id": S("integer"), "name": S("string"), "display_name": S("string"), "description": S("string"), "version": S("string"), "content_hash": S("string"),
    "category": S("string"), "egg_type": {"enum": ["lxd-container", "kvm-vm", "hybrid"]}, "base_image": S("string"), "tags": S("array", items=S("string")), "is_active": S("boolean"),
    "is_template": S("boolean"), "created_on": S("string")}},
 "Variables": {"type": "object", "description": "values for the egg's declared variables", "additionalProperties": {"oneOf": [S("string"), S("integer", **INT64), S("boolean"), S("array", items=S("string"))]}},
 "Deployment": {"type": "object", "required": ["id", "egg_name", "cluster_id", "instance_name", "status", "deployment_type", "created_at"], "properties": {
    "id": S("string"), "egg_id": N("integer"), "egg_name": S("string"), "egg_version": N("string"), "egg_content_hash": N("string"), "cluster_id": S("integer"), "instance_name": S("string"),
    "target_member": N("string"), "status": {"enum": STATUSES},
    "deployment_type": {"enum": ["lxd", "kvm"]}, "instance_info": {"type": ["object", "null"], "additionalProperties": S("string"),
    "description": "name, status, architecture, ipv4, member"}, "error": N("string"), "deployed_by": N("string"), "retry_of": N("string"),
    "last_seq": S("integer", minimum=0, description="the number of the deployment's latest event"),
    "created_at": S("string"), "started_at": N("string"), "completed_at": N("string"), "updated_at": S("string"),
    "cleanup_retry_at": {"type": ["string", "null"], "description": "set while the instance of an ended deployment could not be removed (its host was unreachable): when the gateway tries again"}}},
 "LogEntry": {"type": "object", "required": ["seq", "timestamp", "level", "message"], "properties": {"seq": S("integer", minimum=1, description="the event's number within its deployment: 1, 2, 3, ... without gaps"),
    "timestamp": S("string"), "level": {"enum": LEVELS}, "step": {"enum": STEPS + [None]}, "message": S("string")}},
 "DeploymentProgress": {"type": "object", "description": "one Server-Sent Event's data (event: deployment, id: <seq>)", "required": ["deployment_id", "seq", "status", "step", "level", "message", "details", "timestamp"], "properties": {
    "deployment_id": S("string"), "seq": S("integer", minimum=1), "status": {"enum": STATUSES, "description": "the deployment's status after this event; ordered by seq it never moves backwards"},
    "step": {"enum": STEPS}, "level": {"enum": LEVELS}, "message": S("string"), "details": {"type": "object", "additionalProperties": S("string")}, "timestamp": S("string")}},
 "ServicesHealth": {"type": "object", "required": ["healthy", "services"], "properties": {"healthy": S("boolean"), "services": S("array", items={"type": "object", "required": ["service", "up"], "properties": {
    "service": {"enum": ["api-gateway", "egg-catalog", "cloud-init-renderer", "lxd-deployer", "kvm-deployer", "agent-broker"]}, "up": S("boolean"), "version": S("string"),
    "instance_id": S("string"), "uptime_seconds": S("number"), "latency_ms": S("number"), "error": S("string")}})}},
 "ClusterSummary": {"type": "object", "required": ["id", "name", "connection_method", "hypervisor", "status", "is_active"], "properties": {
    "id": S("integer"), "name": S("string"), "description": S("string"), "connection_method": {"enum": ["direct-api", "ssh", "unix-socket", "agent-poll", "libvirt"]},
    "hypervisor": {"enum": ["lxd", "kvm"]}, "endpoint_url": N("string"), "status": S("string"), "is_active": S("boolean"), "last_check": N("string")}},
 # One schema per connection method (the "ClusterCreate" oneOf below), exactly what the gateway accepts:
 # ClusterRegistration+Validation.swift. The gateway decodes every field whatever the method (a wrong type
 # is a 400; null is as good as absent), so every branch names them all with their types.
 **cluster_schemas,
 "DeployRequest": deploy_request,
 "WarmPool": {"type": "object", "required": ["image", "size"], "properties": {
    "image": S("string", minLength=1, maxLength=200, pattern="^[A-Za-z0-9_./:-]+$", description="an image alias or fingerprint, as deployments name it"),
    "size": S("integer", minimum=0, maximum=50, description="ready instances to keep; 0 keeps none"),
    "profiles": nullable(S("array", items=S("string", minLength=1, maxLength=63, pattern="^[A-Za-z0-9_.-]+$"), description="the profile set; [\"default\"] when null or empty")),
    "member": nullable(S("string", maxLength=63, pattern="^[A-Za-z](([A-Za-z0-9-])*[A-Za-z0-9])?$", description="the cluster member the instances live on; any when null"))}},
}
def with_dry_run(o):
    """POST /deploy?dry_run=true answers 200 with what would be sent, and creates nothing."""
    o["responses"]["200"] = resp("dry run: the rendered files and the LXD request that would be sent", {"type": "object", "required": ["success", "dry_run"], "properties": {"success": {"const": True}, "dry_run": {"const": True}, "data": {"type": "object"}}})
    return o
ok = lambda props, req=[]: envelope(props, req)
paths = {
 "/healthz": {"get": op("Health: 503 when degraded", 200, {"type": "object", "required": ["status"], "properties": {"status": {"enum": ["healthy", "degraded"]}, "timestamp": S("string"), "version": S("string"), "database": S("string"), "dependencies": S("object")}}, [], security=False, tags=["health"])},
 "/metrics": {"get": op("Prometheus metrics", 200, S("string"), [401], tags=["health"], ctype="text/plain")},
 "/api/openapi.json": {"get": op("This description", 200, S("object"), [], security=False, tags=["health"])},
 "/api/services": {"get": op("Every service's health, gathered over the bus (what iceshelves ping shows)", 200, {"allOf": [ok({}), ref("ServicesHealth")]}, [401, 403], tags=["health"])},
 "/api/eggs": {"get": op("List eggs", 200, ok({"eggs": S("array", items=ref("Egg")), "total": S("integer"), "page": S("integer"), "per_page": S("integer"), "total_pages": S("integer")}, ["eggs", "total"]), [400, 401, 403, 503],
                         params=page + [qp("category", S("string")), qp("search", S("string")), qp("egg_type", {"enum": ["lxd-container", "kvm-vm", "hybrid"]}), qp("tag", S("string"))], tags=["eggs"]),
               "post": op("Create an egg from a template", 201, ok({"egg_id": S("integer"), "name": S("string"), "version": S("string"), "message": S("string")}, ["egg_id"]), [400, 401, 403, 404, 409, 413, 503],
                          body=jbody({"type": "object", "required": ["name", "template_id"], "properties": {"name": S("string", pattern="^[a-z0-9][a-z0-9-]{0,62}$"), "display_name": nullable(S("string")), "description": nullable(S("string")), "category": nullable({"enum": ["base", "webserver", "database", "kubernetes", "docker", "custom"]}), "template_id": {"oneOf": [S("integer", **INT64), S("string")]}, "variables": {"oneOf": [ref("Variables"), {"type": "null"}]}}}), tags=["eggs"])},
 "/api/eggs/upload": {"post": op("Upload an egg (tar.gz of one egg folder, as the body or as archive_base64)", 201, ok({"egg_id": S("integer"), "name": S("string"), "version": S("string"), "message": S("string")}), [400, 401, 403, 409, 413, 503],
                                 body={"required": True, "content": {"application/gzip": {"schema": S("string", format="binary")}, "application/json": {"schema": {"type": "object", "required": ["archive_base64"], "properties": {"archive_base64": S("string")}}}}}, tags=["eggs"])},
 "/api/eggs/{id}": {"get": op("Get an egg with its files", 200, ok({"files": {"type": "object", "additionalProperties": S("string")}, "metadata_json": S("string"), "cloud_init_path": S("string")}), [401, 403, 404, 503], params=[pp("id", S("string"))], tags=["eggs"])},
 "/api/eggs/{id}/versions": {"get": op("An egg's versions, newest first", 200, ok({"name": S("string"), "versions": S("array")}), [401, 403, 404, 503], params=[pp("id", S("string"))], tags=["eggs"])},
 "/api/eggs/{id}/review": {"post": op("Review an egg version for host access: its LXD profile may then use what the policy refuses (admin)", 200, ok({"egg": S("string"), "version": S("string"), "content_hash": S("string"), "reviewed": S("boolean")}), [401, 403, 404, 503],
                                params=[pp("id", S("string")), qp("version", S("string"), "a version or content hash; default: the current version")], tags=["eggs"]),
                        "delete": op("Withdraw an egg version's review (admin)", 200, ok({"egg": S("string"), "version": S("string"), "reviewed": S("boolean")}), [401, 403, 404, 503],
                                params=[pp("id", S("string")), qp("version", S("string"), "a version or content hash; default: the current version")], tags=["eggs"])},
 "/api/templates": {"get": op("List templates", 200, ok({"templates": S("array", items={"type": "object", "required": ["id", "name", "required_variables"], "properties": {"id": S("integer"), "name": S("string"), "display_name": S("string"), "description": S("string"), "category": S("string"), "template_type": S("string"), "required_variables": S("array", items=S("string")), "variables": S("array")}}), "total": S("integer")}, ["templates"]), [401, 403, 503], tags=["eggs"])},
 "/api/clusters": {"get": op("List clusters", 200, ok({"clusters": S("array", items=ref("ClusterSummary")), "total": S("integer")}, ["clusters"]), [401, 403], tags=["clusters"]),
                   "post": op("Register a cluster (admin)", 201, ok({"cluster_id": S("integer"), "agent_key": S("string"), "message": S("string")}, ["cluster_id"]), [400, 401, 403, 409, 413], body=jbody(ref("ClusterCreate")), tags=["clusters"])},
 "/api/clusters/{id}": {"get": op("Get a cluster (never its secrets)", 200, ok({}), [401, 403, 404], params=[pp("id", S("integer"))], tags=["clusters"]),
                        "delete": op("Delete a cluster without active deployments (admin)", 200, ok({"message": S("string")}), [401, 403, 404, 409], params=[pp("id", S("integer"))], tags=["clusters"])},
 "/api/clusters/{id}/host-access": {"put": op("Allow host access on a cluster: config keys (security.nesting, raw.*) or device types (devices.disk) an operator's deployment may use (admin)", 200, ok({"cluster_id": S("integer"), "host_access_allow": S("array", items=S("string"))}), [400, 401, 403, 404, 413],
                        params=[pp("id", S("integer"))], body=jbody({"type": "object", "required": ["allow"], "properties": {"allow": S("array", maxItems=64, items=S("string", pattern=HOST_ACCESS_ENTRY))}}), tags=["clusters"])},
 "/api/clusters/{id}/warm-pools": {"put": op("Set a cluster's warm pools: never-started instances the lxd-deployer keeps ready per image, profile set and member; [] removes every pool and its instances (admin)", 200, ok({"cluster_id": S("integer"), "warm_pools": S("array", items=ref("WarmPool")), "message": S("string")}, ["warm_pools"]), [400, 401, 403, 404, 413],
                        params=[pp("id", S("integer"))], body=jbody({"type": "object", "required": ["warm_pools"], "properties": {"warm_pools": S("array", maxItems=20, items=ref("WarmPool"))}}), tags=["clusters"])},
 "/api/clusters/{id}/agent-key": {"post": op("Rotate an agent-poll cluster's agent key: a new key, shown once; the current one stays valid for overlap_seconds (admin)", 201, ok({"cluster_id": S("integer"), "agent_key": S("string"), "previous_key_valid_seconds": S("integer")}, ["agent_key"]), [400, 401, 403, 404, 409, 413],
                        params=[pp("id", S("integer"))], body=jbody({"type": "object", "properties": {"overlap_seconds": nullable(S("integer", minimum=0, maximum=604800, description="default 3600 (also when null)"))}}, required=False), tags=["clusters"]),
                        "delete": op("Revoke every agent key of an agent-poll cluster (admin)", 200, ok({"cluster_id": S("integer"), "message": S("string")}), [401, 403, 404, 409], params=[pp("id", S("integer"))], tags=["clusters"])},
 "/api/clusters/{id}/test": {"post": op("Test the connection", 200, ok({"status": S("string"), "details": S("object")}, ["status", "details"]), [401, 403, 404, 503], params=[pp("id", S("integer"))], tags=["clusters"])},
 "/api/deploy": {"post": with_dry_run(op("Deploy an egg (dry_run=true renders only)", 201, ok({"deployment_id": S("string"), "instance_name": S("string"), "status": {"const": "pending"}, "message": S("string"), "deployments": S("array")}, ["deployment_id", "status"]), [400, 401, 403, 404, 409, 413, 429, 503],
                            params=[qp("dry_run", {"enum": ["true", "false"]})], body=jbody(ref("DeployRequest")), tags=["deployments"]))},
 "/api/deployments": {"get": op("List deployments", 200, ok({"deployments": S("array", items=ref("Deployment")), "total": S("integer"), "page": S("integer"), "per_page": S("integer"), "total_pages": S("integer")}, ["deployments", "total"]), [400, 401, 403],
                                params=page + [qp("status", {"enum": STATUSES}), qp("cluster_id", S("integer", **INT64)), qp("egg_id", S("string"))], tags=["deployments"])},
 "/api/deployments/{id}": {"get": op("Get a deployment with instance_info and logs", 200, {"allOf": [ok({"logs": S("array", items=ref("LogEntry"))}), {"type": "object", "properties": {"egg": S("object"), "cluster": S("object")}}]}, [401, 403, 404], params=[pp("id", S("string"))], tags=["deployments"])},
 "/api/deployments/{id}/logs": {"get": op("A deployment's log", 200, ok({"deployment_id": S("string"), "logs": S("array", items=ref("LogEntry"))}, ["logs"]), [401, 403, 404], params=[pp("id", S("string"))], tags=["deployments"])},
 "/api/deployments/{id}/cancel": {"post": op("Cancel a deployment", 200, ok({"deployment_id": S("string"), "status": S("string")}), [401, 403, 404, 409, 503], params=[pp("id", S("string"))], tags=["deployments"])},
 "/api/deployments/{id}/retry": {"post": op("Retry a failed, timed-out or cancelled deployment", 201, ok({"deployment_id": S("string"), "retry_of": S("string")}), [401, 403, 404, 409, 429, 503], params=[pp("id", S("string"))], tags=["deployments"])},
 "/api/deployments/{id}/cleanup": {"delete": op("Remove the instance from its target", 200, ok({"removed": S("boolean"), "message": S("string")}), [401, 403, 404, 409, 503], params=[pp("id", S("string"))], tags=["deployments"])},
 "/api/deployments/{id}/events": {"get": op("Live progress of one deployment (Server-Sent Events: event: deployment, id: <seq>, data: a DeploymentProgress)", 200, S("string"), [400, 401, 403, 404], params=[pp("id", S("string")), qp("after", S("integer", minimum=0, maximum=2**63 - 1), "replay the recorded events after this seq (default 0: all)"),
     {"name": "Last-Event-ID", "in": "header", "required": False, "schema": S("string", pattern="^[0-9]{1,18}$"), "description": "as after; sent by EventSource when it reconnects"}], tags=["deployments"], ctype="text/event-stream")},
 "/api/events": {"get": op("Live progress of all deployments (Server-Sent Events: event: deployment, id: <seq>, data: a DeploymentProgress)", 200, S("string"), [401, 403], tags=["deployments"], ctype="text/event-stream")},
 "/api/keys": {"get": op("List API keys (admin)", 200, ok({"keys": S("array"), "total": S("integer")}, ["keys"]), [401, 403], tags=["keys"]),
               "post": op("Create an API key, shown once (admin)", 201, ok({"id": S("string"), "key": S("string"), "role": S("string")}, ["key"]), [400, 401, 403, 413],
                          body=jbody({"type": "object", "required": ["name", "role"], "properties": {"name": cluster_fields["name"], "role": {"enum": ["admin", "operator", "viewer"]}}}), tags=["keys"])},
 "/api/keys/{id}": {"delete": op("Revoke an API key (admin)", 200, ok({"message": S("string")}), [401, 403, 404], params=[pp("id", S("string"))], tags=["keys"])},
 "/api/audit": {"get": op("The audit log (admin)", 200, ok({"entries": S("array"), "total": S("integer")}, ["entries"]), [400, 401, 403], params=page, tags=["keys"])},
 "/api/admin/dead-letters": {"get": op("Dead-lettered jobs of the job queues, newest first: metadata only, never a job's body (admin)", 200,
                                     ok({"dead_letters": S("array", items=ref("DeadLetter")), "total": S("integer"), "page": S("integer"), "per_page": S("integer")}, ["dead_letters", "total"]),
                                     [400, 401, 403], params=page, tags=["admin"])},
 "/api/admin/dead-letters/{id}/requeue": {"post": op("Publish a dead-lettered job back to its queue (confirmed by the broker), then remove it; its deployment keeps a terminal state; 409 for a job its consumer refused because its publisher may not send jobs (admin)", 200,
                                                  ok({"id": S("string"), "queue": S("string"), "requeued": S("boolean"), "deployment_id": S("string"), "deployment_status": S("string"), "message": S("string")}, ["id", "queue", "requeued"]),
                                                  [401, 403, 404, 409, 503], params=[pp("id", S("string"))], tags=["admin"])},
 "/api/admin/dead-letters/{id}": {"delete": op("Drop a dead-lettered job (admin)", 200, ok({"id": S("string"), "message": S("string")}, ["id"]), [401, 403, 404], params=[pp("id", S("string"))], tags=["admin"])},
 "/api/webhooks": {"get": op("List webhooks (admin)", 200, ok({"webhooks": S("array"), "total": S("integer")}, ["webhooks"]), [401, 403], tags=["webhooks"]),
                   "post": op("Register a webhook; the signing secret is shown once (admin)", 201, ok({"id": S("integer"), "secret": S("string"), "events": S("array", items=S("string"))}, ["id", "secret"]), [400, 401, 403, 413],
                              body=jbody({"type": "object", "required": ["url"], "properties": {
                                  "url": S("string", maxLength=2048, pattern="^https?://([A-Za-z0-9.-]+|\\[[0-9A-Fa-f:.]+\\])(:[1-9][0-9]{0,3})?(/[A-Za-z0-9._~/-]*)?$",
                                           description="http or https; the host must be allowed by ICESHELVES_ALLOWED_HOSTS"),
                                  "events": {"type": ["array", "null"], "minItems": 1, "items": {"enum": ["deployment.started", "deployment.completed", "deployment.failed", "cluster.status_changed"]}, "description": "default: all"}}}), tags=["webhooks"])},
 "/api/webhooks/{id}": {"delete": op("Delete a webhook (admin)", 200, ok({"message": S("string")}), [401, 403, 404], params=[pp("id", S("integer"))], tags=["webhooks"])},
 "/api/webhooks/{id}/deliveries": {"get": op("A webhook's deliveries and attempts (admin)", 200, ok({"deliveries": S("array"), "total": S("integer")}, ["deliveries"]), [401, 403, 404], params=[pp("id", S("integer"))], tags=["webhooks"])},
}
doc = {"openapi": "3.1.0", "info": {"title": "IceShelves API", "version": "0.1.0",
       "description": "The IceShelves REST API, compatible with the original's documented API. Errors are {success: false, error, code}; successes are {success: true, data} with data's fields also at the top level. Unknown body fields are ignored."},
       "servers": [{"url": "/iceshelves"}], "security": [{"bearerAuth": []}],
       "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "description": "an API key: isk_<id>_<secret>"}}, "schemas": schemas},
       "paths": paths}
print(json.dumps(doc, indent=1, sort_keys=True))

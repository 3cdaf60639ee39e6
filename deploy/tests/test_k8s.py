"""deploy/k8s/ without a cluster: render every kustomization with the small subset of kustomize it uses,
validate every manifest (built-in kinds with kubernetes-validate, strict; Strimzi, CloudNativePG and KEDA
resources with the operators' published CRD schemas, vendored in deploy/k8s/schemas/), and check the manifests
against the code: the topic registry, the services with a database, the settings each service reads, its
consumer groups."""

from __future__ import annotations

import copy
import importlib
import json
import re
import subprocess
import sys
import threading
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from omni_contracts import TOPICS, dlq_topic
from omni_contracts.topics import DEFAULT_PARTITIONS

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy/k8s"
# the Kubernetes API the built-in manifests are validated against (strict: no unknown field)
KUBERNETES_VERSION = "1.33.0"
SERVICES = sorted(
    p.name for p in (ROOT / "services").iterdir() if (p / "pyproject.toml").exists() and p.name != "chassis"
)
DB_SERVICES = [s for s in SERVICES if (ROOT / f"services/{s}/src/omni_{s}/migrations").is_dir()]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]

# CRD instances: (apiVersion, kind) -> the vendored openAPIV3Schema (deploy/k8s/schemas/SOURCES.md)
CRD_SCHEMAS = {
    ("kafka.strimzi.io/v1", "Kafka"): "strimzi-kafka-v1.json",
    ("kafka.strimzi.io/v1", "KafkaNodePool"): "strimzi-kafkanodepool-v1.json",
    ("kafka.strimzi.io/v1", "KafkaTopic"): "strimzi-kafkatopic-v1.json",
    ("postgresql.cnpg.io/v1", "Cluster"): "cnpg-cluster-v1.json",
    ("keda.sh/v1alpha1", "ScaledObject"): "keda-scaledobject-v1alpha1.json",
}
# The trigger metadata KEDA's kafka scaler reads (pkg/scalers/kafka_scaler.go, v2.20.2); the CRD types it as a
# free string map, so a misspelt key would be silently ignored by KEDA
KEDA_KAFKA_KEYS = {
    "bootstrapServers", "consumerGroup", "topic", "partitionLimitation", "lagThreshold",
    "activationLagThreshold", "offsetResetPolicy", "allowIdleConsumers", "excludePersistentLag",
    "scaleToZeroOnInvalidOffset", "limitToPartitionsWithLag", "ensureEvenDistributionOfPartitions",
    "version", "tls", "unsafeSsl", "sasl",
}  # fmt: skip
# Read straight from os.environ (not a Settings field), each in the file named: checked below
RAW_ENV = {"KAFKA_REPLICATION_FACTOR": "services/chassis/src/omni_chassis/kafka.py"}


# ------------------------------------------------------------------------------ the kustomize subset we use


class RenderError(Exception):
    pass


KUSTOMIZATION_KEYS = {"apiVersion", "kind", "resources", "patches"}
PATCH_KEYS = {"path", "target"}
TARGET_KEYS = {"group", "version", "kind", "name"}


def render(directory: Path) -> list[dict[str, Any]]:
    """`kustomize build directory`, for kustomizations made only of `resources` (files, or directories with a
    kustomization) and `patches` whose file is a list of JSON 6902 operations, selected by `target` (group,
    version, kind, name: anchored regular expressions, as kustomize matches them). Anything else is refused,
    and so is a patch that selects nothing or a path that does not exist (stricter than kustomize)."""
    kz = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(kz) - KUSTOMIZATION_KEYS
    if unknown:
        raise RenderError(f"{directory}: kustomization keys outside the supported subset: {sorted(unknown)}")
    if (kz.get("apiVersion"), kz.get("kind")) != ("kustomize.config.k8s.io/v1beta1", "Kustomization"):
        raise RenderError(f"{directory}: not a kustomize.config.k8s.io/v1beta1 Kustomization")
    docs: list[dict[str, Any]] = []
    for entry in kz.get("resources", []):
        path = directory / entry
        if path.is_dir():
            docs += render(path)
        elif path.is_file():
            docs += [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
        else:
            raise RenderError(f"{directory}: resource {entry} does not exist")
    ids = [resource_id(d) for d in docs]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise RenderError(f"{directory}: resources defined twice: {duplicates}")
    for patch in kz.get("patches", []):
        if set(patch) - PATCH_KEYS or set(patch.get("target", {})) - TARGET_KEYS or "path" not in patch:
            raise RenderError(f"{directory}: unsupported patch entry {patch}")
        ops = yaml.safe_load((directory / patch["path"]).read_text())
        if not isinstance(ops, list):
            raise RenderError(f"{directory}/{patch['path']}: not a list of JSON 6902 operations")
        selected = [i for i, d in enumerate(docs) if selects(patch.get("target", {}), d)]
        if not selected:
            raise RenderError(f"{directory}: patch {patch['path']} selects no resource")
        for i in selected:
            try:
                docs[i] = json6902(docs[i], ops)
            except RenderError as exc:
                raise RenderError(f"{patch['path']} on {resource_id(docs[i])}: {exc}") from None
    return docs


def resource_id(doc: dict[str, Any]) -> tuple[str, str, str]:
    return (group_of(doc), doc["kind"], doc["metadata"]["name"])


def group_of(doc: dict[str, Any]) -> str:
    api = doc["apiVersion"]
    return api.split("/")[0] if "/" in api else ""


def selects(target: dict[str, str], doc: dict[str, Any]) -> bool:
    fields = {
        "group": group_of(doc),
        "version": doc["apiVersion"].split("/")[-1],
        "kind": doc["kind"],
        "name": doc["metadata"]["name"],
    }
    return all(re.fullmatch(pattern, fields[key]) for key, pattern in target.items())


def json6902(doc: dict[str, Any], ops: list[dict[str, Any]]) -> dict[str, Any]:
    """RFC 6902 `add`, `remove`, `replace` and `test` (no `move`/`copy`), on a copy of `doc`."""
    doc = copy.deepcopy(doc)
    for op in ops:
        name, path = op.get("op"), op.get("path", "")
        if name not in ("add", "remove", "replace", "test") or not path.startswith("/"):
            raise RenderError(f"unsupported operation {op}")
        parts = [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]
        parent: Any = doc
        for part in parts[:-1]:
            parent = _child(parent, part, path)
        key = parts[-1]
        if isinstance(parent, list):
            if name == "add" and key == "-":
                parent.append(copy.deepcopy(op["value"]))
                continue
            if not key.isdigit() or int(key) > len(parent) or (name != "add" and int(key) == len(parent)):
                raise RenderError(f"{path}: no index {key}")
            index: int | str = int(key)
        elif isinstance(parent, dict):
            if name != "add" and key not in parent:
                raise RenderError(f"{path} does not exist")
            index = key
        else:
            raise RenderError(f"{path}: the parent is neither an object nor an array")
        if name == "add" and isinstance(parent, list):
            parent.insert(int(index), copy.deepcopy(op["value"]))
        elif name in ("add", "replace"):
            parent[index] = copy.deepcopy(op["value"])
        elif name == "remove":
            del parent[index]
        elif parent[index] != op["value"]:
            raise RenderError(f"test failed: {path} is {parent[index]!r}, not {op['value']!r}")
    return doc


def _child(node: Any, part: str, path: str) -> Any:
    if isinstance(node, dict) and part in node:
        return node[part]
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    raise RenderError(f"{path} does not exist")


@cache
def rendered(overlay: str) -> tuple[dict[str, Any], ...]:
    return tuple(render(K8S / overlay))


RENDERS = ["base", "overlays/local"]


def of_kind(docs: tuple[dict[str, Any], ...], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


# ----------------------------------------------------------------------------------------- validators


def validate_builtin(doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def is_builtin(doc: dict[str, Any]) -> bool:
    group = group_of(doc)
    return "." not in group or group.endswith(".k8s.io")


@cache
def crd_validator(api_version: str, kind: str) -> jsonschema.protocols.Validator:
    doc = json.loads((K8S / "schemas" / CRD_SCHEMAS[(api_version, kind)]).read_text())
    assert (f"{doc['group']}/{doc['version']}", doc["kind"]) == (api_version, kind)
    schema = closed(doc["openAPIV3Schema"])
    return jsonschema.Draft202012Validator(schema)


def closed(schema: Any) -> Any:
    """A CRD schema as the API server applies it with kubectl's default `--validate=strict`: an object's
    fields are only those it lists (unless `x-kubernetes-preserve-unknown-fields`); int-or-string is typed.
    CEL rules (`x-kubernetes-validations`) are not evaluated."""
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    for key in ("properties", "patternProperties"):
        if isinstance(out.get(key), dict):
            out[key] = {name: closed(sub) for name, sub in out[key].items()}
    for key in ("allOf", "anyOf", "oneOf"):
        if isinstance(out.get(key), list):
            out[key] = [closed(sub) for sub in out[key]]
    for key in ("items", "additionalProperties", "not"):
        if isinstance(out.get(key), dict):
            out[key] = closed(out[key])
    if "properties" in out and "additionalProperties" not in out:
        if not out.get("x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
    if out.get("x-kubernetes-int-or-string") and "type" not in out:
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    return out


DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def validate_custom(doc: dict[str, Any]) -> None:
    key = (doc["apiVersion"], doc["kind"])
    if key not in CRD_SCHEMAS:
        raise LookupError(f"no vendored schema for {key}: add it to deploy/k8s/schemas/ and CRD_SCHEMAS")
    name = doc["metadata"]["name"]
    if len(name) > 253 or not DNS_SUBDOMAIN.match(name):
        raise jsonschema.ValidationError(f"metadata.name {name!r} is not a DNS subdomain")
    crd_validator(*key).validate(doc)


# ------------------------------------------------------------------------------------------ code facts


def settings_env_names(service: str) -> set[str]:
    """As deploy/tests/test_compose.py: what the service's Settings read."""
    settings_cls = importlib.import_module(f"omni_{service}.app").Settings
    names = set(settings_cls.env_names())
    for name, field in settings_cls.model_fields.items():
        names.add((field.alias or name).upper())
    return names


def consumer_specs(service: str) -> list[Any]:
    try:
        module = importlib.import_module(f"omni_{service}.consumers")
    except ModuleNotFoundError:
        return []
    return list(module.specs())


CONSUMER_SERVICES = [s for s in SERVICES if consumer_specs(s)]


def expected_topics(prefix: str = "", group_prefix: str = "") -> dict[str, int]:
    """Every topic a deployment needs: the registry's, with their partitions, and each group's DLQ."""
    topics = {prefix + spec.name: spec.partitions for spec in TOPICS.values()}
    for svc in CONSUMER_SERVICES:
        for spec in consumer_specs(svc):
            topics[dlq_topic(group_prefix + spec.group)] = DEFAULT_PARTITIONS
    return topics


def topic_mismatches(docs: tuple[dict[str, Any], ...], expected: dict[str, int]) -> list[str]:
    have = {d["spec"].get("topicName", d["metadata"]["name"]): d["spec"]["partitions"] for d in docs}
    problems = [f"no KafkaTopic for {t}" for t in sorted(set(expected) - set(have))]
    problems += [f"KafkaTopic {t} is not in the registry" for t in sorted(set(have) - set(expected))]
    for topic, partitions in expected.items():
        if topic in have and have[topic] != partitions:
            problems.append(f"{topic}: {have[topic]} partitions, the registry says {partitions}")
    return problems


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def main_container(deployment: dict[str, Any]) -> dict[str, Any]:
    return deployment["spec"]["template"]["spec"]["containers"][0]


def quantity(value: str | int) -> float:
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 1e3, "M": 1e6, "G": 1e9}
    match = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", str(value))
    assert match and (not match[2] or match[2] in units), f"unparsed quantity {value!r}"
    return float(match[1]) * units.get(match[2], 1)


# --------------------------------------------------------------------------------------------- tests


@pytest.mark.parametrize("overlay", [*RENDERS, "base/kafka", "base/postgres", "base/services"])
def test_every_kustomization_renders(overlay):
    assert render(K8S / overlay)


def test_every_kustomization_is_covered():
    found = {str(p.parent.relative_to(K8S)) for p in K8S.rglob("kustomization.yaml")}
    assert found == {*RENDERS, "base/kafka", "base/postgres", "base/services"}


@pytest.mark.parametrize("overlay", RENDERS)
def test_builtin_manifests_are_valid_kubernetes(overlay):
    builtin = [d for d in rendered(overlay) if is_builtin(d)]
    assert {d["kind"] for d in builtin} >= {"Deployment", "Service", "PodDisruptionBudget", "Job"}
    for doc in builtin:
        validate_builtin(doc)


@pytest.mark.parametrize("overlay", RENDERS)
def test_custom_resources_match_the_operators_schemas(overlay):
    custom = [d for d in rendered(overlay) if not is_builtin(d)]
    assert {d["kind"] for d in custom} == {"Kafka", "KafkaNodePool", "KafkaTopic", "Cluster", "ScaledObject"}
    for doc in custom:
        validate_custom(doc)


def test_vendored_schemas_are_documented():
    sources = (K8S / "schemas/SOURCES.md").read_text()
    for name in CRD_SCHEMAS.values():
        assert name in sources, f"{name} is not in deploy/k8s/schemas/SOURCES.md"
    vendored = {p.name for p in (K8S / "schemas").glob("*.json")}
    assert vendored == set(CRD_SCHEMAS.values())


@pytest.mark.parametrize("overlay", RENDERS)
def test_kafka_topics_are_exactly_the_registry(overlay):
    docs = rendered(overlay)
    (kafka,) = of_kind(docs, "Kafka")
    topics = of_kind(docs, "KafkaTopic").values()
    assert topic_mismatches(tuple(topics), expected_topics()) == []
    (pool,) = of_kind(docs, "KafkaNodePool").values()
    config = of_kind(docs, "Kafka")[kafka]["spec"]["kafka"]["config"]
    for topic in topics:
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == kafka
        assert config["min.insync.replicas"] <= topic["spec"]["replicas"] <= pool["spec"]["replicas"]


@pytest.mark.parametrize("overlay", RENDERS)
def test_kafka_is_kraft_with_one_dual_role_node_pool(overlay):
    docs = rendered(overlay)
    ((name, kafka),) = of_kind(docs, "Kafka").items()
    (pool,) = of_kind(docs, "KafkaNodePool").values()
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == name
    assert set(pool["spec"]["roles"]) == {"controller", "broker"}
    assert "zookeeper" not in kafka["spec"]
    config = kafka["spec"]["kafka"]["config"]
    brokers = pool["spec"]["replicas"]
    for key in ("default.replication.factor", "offsets.topic.replication.factor"):
        assert config[key] == min(3, brokers)
    assert config["auto.create.topics.enable"] is False
    assert "topicOperator" in kafka["spec"]["entityOperator"]
    plain = {"name": "plain", "port": 9092, "type": "internal", "tls": False}
    assert plain in kafka["spec"]["kafka"]["listeners"]


def test_kafka_topics_check_fails_on_a_topic_without_a_manifest():
    topics = tuple(of_kind(rendered("base"), "KafkaTopic").values())
    more = {**expected_topics(), "omni.returns": 6}
    assert topic_mismatches(topics, more) == ["no KafkaTopic for omni.returns"]
    changed = {**expected_topics(), "omni.order": 12}
    assert topic_mismatches(topics, changed) == ["omni.order: 6 partitions, the registry says 12"]
    fewer = {k: v for k, v in expected_topics().items() if k != "omni.diagnostics"}
    assert topic_mismatches(topics, fewer) == ["KafkaTopic omni.diagnostics is not in the registry"]


@pytest.mark.parametrize("overlay", RENDERS)
def test_one_cnpg_cluster_per_service_database(overlay):
    assert "gateway" in SERVICES and "gateway" not in DB_SERVICES
    clusters = of_kind(rendered(overlay), "Cluster")
    assert set(clusters) == {f"omni-{s}-db" for s in DB_SERVICES}
    for svc in DB_SERVICES:
        initdb = clusters[f"omni-{svc}-db"]["spec"]["bootstrap"]["initdb"]
        assert initdb["database"] == f"omni_{svc}"


@pytest.mark.parametrize("overlay", RENDERS)
def test_one_deployment_service_and_pdb_per_service(overlay):
    docs = rendered(overlay)
    deployments, services, pdbs = (of_kind(docs, k) for k in ("Deployment", "Service", "PodDisruptionBudget"))
    assert set(deployments) == set(services) == set(pdbs) == set(SERVICES)
    pod_labels = [
        (d["metadata"]["name"], d["spec"]["template"]["metadata"]["labels"])
        for d in docs
        if d["kind"] in ("Deployment", "Job")
    ]
    for svc in SERVICES:
        deployment = deployments[svc]
        container = main_container(deployment)
        assert container["image"] == COMPOSE[svc]["image"], "one image per service, as docker-compose.yml"
        assert deployment["spec"]["selector"]["matchLabels"].items() <= dict(pod_labels)[svc].items()
        for selector in (services[svc]["spec"]["selector"], pdbs[svc]["spec"]["selector"]["matchLabels"]):
            chosen = [name for name, labels in pod_labels if selector.items() <= labels.items()]
            assert chosen == [svc], f"{svc}: the selector {selector} picks the pods of {chosen}"
        (port,) = container["ports"]
        (service_port,) = services[svc]["spec"]["ports"]
        assert service_port["targetPort"] == port["name"]
        http_port = int(env_of(container)[f"{svc.upper()}_HTTP_PORT"])
        assert service_port["port"] == port["containerPort"] == http_port


def test_probes_are_the_chassis_health_routes():
    from omni_chassis.app import _ops_router

    routes = {route.path for route in _ops_router().routes}
    assert {"/health/live", "/health/ready"} <= routes
    for svc, deployment in of_kind(rendered("base"), "Deployment").items():
        container = main_container(deployment)
        (port,) = container["ports"]
        assert container["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": port["name"]}, svc
        assert container["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": port["name"]}, svc
        assert container["startupProbe"]["httpGet"]["path"] in routes


@pytest.mark.parametrize("overlay", RENDERS)
def test_env_names_are_settings_the_services_read(overlay):
    for name, path in RAW_ENV.items():
        assert f'os.environ.get("{name}"' in (ROOT / path).read_text(), f"{path} no longer reads {name}"
    for svc, deployment in of_kind(rendered(overlay), "Deployment").items():
        known = settings_env_names(svc) | set(RAW_ENV)
        spec = deployment["spec"]["template"]["spec"]
        for container in spec["containers"] + spec.get("initContainers", []):
            unknown = sorted(set(env_of(container)) - known)
            assert not unknown, f"{svc}/{container['name']} sets {unknown}, which its Settings do not read"
        env = env_of(main_container(deployment))
        assert env[f"{svc.upper()}_HTTP_HOST"] == "0.0.0.0"
        assert "DATABASE_URL" not in env, "each service gets its own database's URL, not a server URL"


@pytest.mark.parametrize("overlay", RENDERS)
def test_database_urls_come_from_the_cnpg_secrets(overlay):
    docs = rendered(overlay)
    clusters = of_kind(docs, "Cluster")
    for svc, deployment in of_kind(docs, "Deployment").items():
        spec = deployment["spec"]["template"]["spec"]
        if svc not in DB_SERVICES:
            assert "initContainers" not in spec
            assert f"{svc.upper()}_DATABASE_URL" not in env_of(spec["containers"][0])
            continue
        (migrate,) = spec["initContainers"]
        assert migrate["command"] == ["omni", "migrate", svc]
        assert migrate["image"] == main_container(deployment)["image"]
        for container in (main_container(deployment), migrate):
            ref = env_of(container)[f"{svc.upper()}_DATABASE_URL"]["secretKeyRef"]
            assert ref == {"name": f"omni-{svc}-db-app", "key": "uri"}
            assert ref["name"].removesuffix("-app") in clusters


@pytest.mark.parametrize("overlay", RENDERS)
def test_every_container_has_requests_and_limits(overlay):
    for doc in rendered(overlay):
        if doc["kind"] not in ("Deployment", "Job"):
            continue
        spec = doc["spec"]["template"]["spec"]
        for container in spec["containers"] + spec.get("initContainers", []):
            res = container["resources"]
            where = f"{doc['metadata']['name']}/{container['name']}"
            assert set(res["requests"]) == set(res["limits"]) == {"cpu", "memory"}, where
            for key in ("cpu", "memory"):
                assert quantity(res["requests"][key]) <= quantity(res["limits"][key]), where


@pytest.mark.parametrize("overlay", RENDERS)
def test_consumer_services_scale_on_their_groups_lag(overlay):
    assert CONSUMER_SERVICES, "no service with consumer groups found"
    docs = rendered(overlay)
    scaled, deployments = of_kind(docs, "ScaledObject"), of_kind(docs, "Deployment")
    (kafka,) = of_kind(docs, "Kafka")
    topics = of_kind(docs, "KafkaTopic").values()
    partitions = {t["spec"]["topicName"]: t["spec"]["partitions"] for t in topics}
    assert set(scaled) == set(CONSUMER_SERVICES)
    for svc in CONSUMER_SERVICES:
        spec = scaled[svc]["spec"]
        env = env_of(main_container(deployments[svc]))
        group_prefix = env.get("OMNI_CONSUMER_GROUP_PREFIX", "")
        topic_prefix = env.get("OMNI_TOPIC_PREFIX", "")
        assert spec["scaleTargetRef"] == {"name": svc}
        assert "replicas" not in deployments[svc]["spec"], "the ScaledObject owns the replica count"
        triggers = {t["metadata"]["consumerGroup"]: t for t in spec["triggers"]}
        assert len(triggers) == len(spec["triggers"])
        wanted = {group_prefix + c.group: c for c in consumer_specs(svc)}
        assert set(triggers) == set(wanted), f"{svc}: triggers on {sorted(triggers)}, groups {sorted(wanted)}"
        for group, trigger in triggers.items():
            meta = trigger["metadata"]
            assert trigger["type"] == "kafka"
            assert set(meta) <= KEDA_KAFKA_KEYS, f"{svc}: unknown scaler keys {set(meta) - KEDA_KAFKA_KEYS}"
            bootstrap = f"{kafka}-kafka-bootstrap:9092"
            assert meta["bootstrapServers"] == env["KAFKA_BOOTSTRAP_SERVERS"] == bootstrap
            # a group on several topics scales on its hot one (KEDA's kafka trigger takes one topic)
            assert meta["topic"] in {topic_prefix + t for t in wanted[group].topics}
            assert int(meta["lagThreshold"]) > 0 and meta["offsetResetPolicy"] == "earliest"
            assert spec["maxReplicaCount"] <= partitions[meta["topic"]]
        assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"], "never to zero: it serves HTTP too"


@pytest.mark.parametrize("overlay", RENDERS)
def test_gateway_scales_on_cpu_and_finds_every_service(overlay):
    docs = rendered(overlay)
    (hpa,) = of_kind(docs, "HorizontalPodAutoscaler").values()
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "gateway"}
    gateway = of_kind(docs, "Deployment")["gateway"]
    assert "replicas" not in gateway["spec"]
    env = env_of(main_container(gateway))
    services = of_kind(docs, "Service")
    for svc in SERVICES:
        if svc != "gateway":
            port = services[svc]["spec"]["ports"][0]["port"]
            assert env[f"GATEWAY_{svc.upper()}_URL"] == f"http://{svc}:{port}"
    keys_path = Path(env["GATEWAY_API_KEYS_FILE"])
    (mount,) = [m for m in main_container(gateway)["volumeMounts"] if m["mountPath"] == str(keys_path.parent)]
    (volume,) = [v for v in gateway["spec"]["template"]["spec"]["volumes"] if v["name"] == mount["name"]]
    assert volume["secret"]["secretName"] == "omni-gateway-api-keys"
    assert volume["secret"]["items"] == [{"key": keys_path.name, "path": keys_path.name}]


def test_base_carries_no_secret_and_the_templates_only_placeholders():
    assert not of_kind(rendered("base"), "Secret"), "the base must not ship credentials"
    for template in (K8S / "base/secrets").glob("*.yaml"):
        secret = yaml.safe_load(template.read_text())
        validate_builtin(secret)
        for name, value in secret["stringData"].items():
            if not name.endswith(".json"):  # a bare key file: every line a placeholder
                assert all(line.startswith("REPLACE-ME") for line in value.splitlines()), template.name
                continue
            for entry in json.loads(value):
                for key in ("secret", "app_key", "key_sha256"):
                    assert key not in entry or entry[key].startswith("REPLACE-ME"), f"{template.name}: {key}"
    shops = yaml.safe_load((K8S / "base/secrets/shop-credentials.example.yaml").read_text())
    (entry,) = json.loads(shops["stringData"]["shops.json"])
    from omni_channel.api import ShopIn

    assert set(entry) == {"channel", "shop_id", *ShopIn.model_fields}


def test_the_channel_reads_its_credentials_key_from_a_secret_and_local_has_the_development_one():
    from omni_channel.credentials import DEV_KEY

    (channel,) = of_kind(rendered("base"), "Deployment")["channel"]["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in channel["env"]}
    mounts = {m["name"]: m["mountPath"] for m in channel["volumeMounts"]}
    assert env["OMNI_CHANNEL_CREDENTIALS_KEY_FILE"] == mounts["credentials-key"] + "/keys"
    local = of_kind(rendered("overlays/local"), "Secret")["omni-channel-credentials-key"]
    assert local["stringData"]["keys"].split() == [DEV_KEY]


def test_local_overlay_carries_the_development_api_keys():
    from omni_gateway.domain.keys import parse_keys_json

    secret = of_kind(rendered("overlays/local"), "Secret")["omni-gateway-api-keys"]
    text = secret["stringData"]["api-keys.json"]
    assert json.loads(text) == json.loads((ROOT / "services/gateway/dev-api-keys.json").read_text())
    assert len(parse_keys_json(text, "local overlay")) == 5


def _shop_job_command() -> list[str]:
    job = of_kind(rendered("base"), "Job")["channel-shops"]
    spec = job["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    (volume,) = spec["volumes"]
    assert volume["secret"] == {"secretName": "omni-shop-credentials", "optional": True}
    assert container["image"] == COMPOSE["channel"]["image"]
    command = container["command"]
    assert command[:2] == ["python", "-c"]
    assert command[3:] == ["/etc/omni/shops/shops.json", "http://channel:8006"]
    return command


def test_shop_job_registers_each_shop_with_the_channel_service(tmp_path):
    calls: list[tuple[str, str, dict[str, Any] | None]] = []

    class Channel(BaseHTTPRequestHandler):
        def do_GET(self):
            calls.append(("GET", self.path, None))
            self.send_response(503 if len(calls) == 1 else 200)  # not ready at first
            self.end_headers()

        def do_PUT(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            calls.append(("PUT", self.path, body))
            self.send_response(201)
            self.end_headers()

        def log_message(self, *args):
            pass

    shops = [
        {"channel": "tmall", "shop_id": "shop:1", "name": "A", "app_key": "k1", "secret": "s" * 8},
        {"channel": "jd", "shop_id": "2", "name": "B", "app_key": "k2", "secret": "t" * 8, "active": False},
    ]
    (tmp_path / "shops.json").write_text(json.dumps(shops))
    server = ThreadingHTTPServer(("127.0.0.1", 0), Channel)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    script = _shop_job_command()[2]
    url = f"http://127.0.0.1:{server.server_port}"
    fast = script.replace("time.sleep(5)", "time.sleep(0.01)")
    try:
        done = subprocess.run(
            [sys.executable, "-c", fast, str(tmp_path / "shops.json"), url], capture_output=True
        )
    finally:
        server.shutdown()
    assert done.returncode == 0, done.stderr.decode()
    assert [c[:2] for c in calls] == [
        ("GET", "/health/ready"),
        ("GET", "/health/ready"),
        ("PUT", "/shops/tmall/shop%3A1"),
        ("PUT", "/shops/jd/2"),
    ]
    assert calls[2][2] == {"name": "A", "app_key": "k1", "secret": "s" * 8, "active": True}
    assert calls[3][2] == {"name": "B", "app_key": "k2", "secret": "t" * 8, "active": False}
    assert b"s" * 8 not in done.stdout and b"t" * 8 not in done.stdout
    absent = str(tmp_path / "absent.json")
    without = subprocess.run([sys.executable, "-c", script, absent, url], capture_output=True)
    assert without.returncode == 0 and b"nothing to register" in without.stdout


def test_base_is_replicated():
    docs = rendered("base")
    (pool,) = of_kind(docs, "KafkaNodePool").values()
    assert pool["spec"]["replicas"] == 3
    assert {t["spec"]["replicas"] for t in of_kind(docs, "KafkaTopic").values()} == {3}
    assert {c["spec"]["instances"] for c in of_kind(docs, "Cluster").values()} == {3}
    for svc, deployment in of_kind(docs, "Deployment").items():
        if svc in DB_SERVICES:
            assert env_of(main_container(deployment))["KAFKA_REPLICATION_FACTOR"] == "3"
        if "replicas" in deployment["spec"]:
            assert deployment["spec"]["replicas"] >= 2
    assert {s["spec"]["minReplicaCount"] for s in of_kind(docs, "ScaledObject").values()} == {2}
    assert {h["spec"]["minReplicas"] for h in of_kind(docs, "HorizontalPodAutoscaler").values()} == {2}


def test_local_overlay_is_one_of_everything_and_small():
    base, local = rendered("base"), rendered("overlays/local")
    (pool,) = of_kind(local, "KafkaNodePool").values()
    assert pool["spec"]["replicas"] == 1
    assert {t["spec"]["replicas"] for t in of_kind(local, "KafkaTopic").values()} == {1}
    (kafka,) = of_kind(local, "Kafka").values()
    config = kafka["spec"]["kafka"]["config"]
    replication = [
        k for k in config if "replication.factor" in k or k.endswith(("min.isr", "insync.replicas"))
    ]
    assert len(replication) == 5 and {config[k] for k in replication} == {1}
    for cluster in of_kind(local, "Cluster").values():
        assert cluster["spec"]["instances"] == 1 and cluster["spec"]["enablePDB"] is False
    base_deployments = of_kind(base, "Deployment")
    for svc, deployment in of_kind(local, "Deployment").items():
        assert deployment["spec"].get("replicas", 1) == 1
        if svc in DB_SERVICES:
            assert env_of(main_container(deployment))["KAFKA_REPLICATION_FACTOR"] == "1"
        small = main_container(deployment)["resources"]
        big = main_container(base_deployments[svc])["resources"]
        for kind in ("requests", "limits"):
            for key in ("cpu", "memory"):
                assert quantity(small[kind][key]) < quantity(big[kind][key]), f"{svc} {kind}.{key}"
    assert {s["spec"]["minReplicaCount"] for s in of_kind(local, "ScaledObject").values()} == {1}
    assert {h["spec"]["minReplicas"] for h in of_kind(local, "HorizontalPodAutoscaler").values()} == {1}


# ------------------------------------------------------------------------ the checks can fail (negative)


def test_kubernetes_validation_rejects_an_unknown_field_and_a_wrong_type():
    deployment = copy.deepcopy(of_kind(rendered("base"), "Deployment")["order"])
    validate_builtin(deployment)
    typo = copy.deepcopy(deployment)
    typo["spec"]["replica"] = 2
    with pytest.raises(kubernetes_validate.ValidationError):
        validate_builtin(typo)
    wrong = copy.deepcopy(deployment)
    main_container(wrong)["ports"][0]["containerPort"] = "8003"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate_builtin(wrong)


def test_crd_validation_rejects_what_the_api_server_would():
    docs = rendered("base")
    topic = copy.deepcopy(of_kind(docs, "KafkaTopic")["omni.order"])
    topic["spec"]["partition"] = topic["spec"].pop("partitions")
    with pytest.raises(jsonschema.ValidationError, match="partition"):
        validate_custom(topic)
    scaled = copy.deepcopy(of_kind(docs, "ScaledObject")["order"])
    scaled["spec"]["triggers"] = []
    with pytest.raises(jsonschema.ValidationError):
        validate_custom(scaled)
    cluster = copy.deepcopy(of_kind(docs, "Cluster")["omni-order-db"])
    cluster["spec"]["instances"] = "three"
    with pytest.raises(jsonschema.ValidationError):
        validate_custom(cluster)
    pool = copy.deepcopy(of_kind(docs, "KafkaNodePool")["dual-role"])
    pool["spec"]["roles"] = ["zookeeper"]
    with pytest.raises(jsonschema.ValidationError):
        validate_custom(pool)
    with pytest.raises(LookupError):
        validate_custom({"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledJob", "metadata": {"name": "x"}})


def test_renderer_refuses_what_it_does_not_implement(tmp_path):
    API = "kustomize.config.k8s.io/v1beta1"
    (tmp_path / "svc.yaml").write_text(yaml.safe_dump(of_kind(rendered("base"), "Service")["order"]))

    def build(kz: dict[str, Any], ops: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        head = {"apiVersion": API, "kind": "Kustomization", "resources": ["svc.yaml"]}
        (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump({**head, **kz}))
        (tmp_path / "patch.yaml").write_text(yaml.safe_dump(ops or []))
        return render(tmp_path)

    (done,) = build({"patches": [{"path": "patch.yaml", "target": {"kind": "Service", "name": "ord.*"}}]},
                    [{"op": "replace", "path": "/spec/ports/0/port", "value": 1}])  # fmt: skip
    assert done["spec"]["ports"][0]["port"] == 1
    with pytest.raises(RenderError, match="namePrefix"):
        build({"namePrefix": "dev-"})
    with pytest.raises(RenderError, match="does not exist"):
        build({"patches": [{"path": "patch.yaml", "target": {"kind": "Service"}}]},
              [{"op": "replace", "path": "/spec/nope/0", "value": 1}])  # fmt: skip
    with pytest.raises(RenderError, match="selects no resource"):
        build({"patches": [{"path": "patch.yaml", "target": {"kind": "Deployment"}}]})
    with pytest.raises(RenderError, match="test failed"):
        build({"patches": [{"path": "patch.yaml", "target": {"kind": "Service"}}]},
              [{"op": "test", "path": "/spec/ports/0/name", "value": "grpc"}])  # fmt: skip
    with pytest.raises(RenderError, match="twice"):
        build({"resources": ["svc.yaml", "svc.yaml"]})

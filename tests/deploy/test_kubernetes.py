"""deploy/kubernetes: schema-valid (kubernetes-validate --strict) and safe to run."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from dealcoach.config import Settings

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "kubernetes"
VALIDATOR = Path(sys.executable).with_name("kubernetes-validate")
# The newest schemas kubernetes-validate ships, and the oldest release we still support.
KUBERNETES_VERSIONS = ["1.37.0", "1.30.0"]
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|DATABASE_URL|API_KEY", re.IGNORECASE)
SLACK_TOKEN = re.compile(r"xox[a-z]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+")


def manifest_files() -> list[Path]:
    return sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def documents() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in manifest_files():
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def one(kind: str) -> dict[str, Any]:
    [doc] = [d for d in documents() if d["kind"] == kind]
    return doc


def pod_spec(kind: str) -> dict[str, Any]:
    spec: dict[str, Any] = one(kind)["spec"]["template"]["spec"]
    return spec


def validate(paths: list[str], version: str) -> subprocess.CompletedProcess[str]:
    if not VALIDATOR.exists():
        pytest.fail(f"{VALIDATOR} missing: install the dev extra (kubernetes-validate)")
    return subprocess.run(
        [str(VALIDATOR), "--strict", "--quiet", "-k", version, *paths],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_validates_strictly_against_the_kubernetes_schemas(version: str) -> None:
    files = manifest_files()
    assert len(files) >= 8
    result = validate([str(p) for p in files], version)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ERROR" not in result.stdout + result.stderr
    assert "Couldn't find schema" not in result.stdout + result.stderr


def test_the_kustomization_lists_every_manifest_and_nothing_missing() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == sorted(p.name for p in manifest_files())
    assert kustomization["namespace"] == "dealcoach"
    [image] = kustomization["images"]
    assert image["name"] == "dealcoach"


def test_the_kustomize_rendering_validates_too(tmp_path: Path) -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed (the files themselves are validated above)")
    rendered = subprocess.run(
        [kubectl, "kustomize", str(K8S)], capture_output=True, text=True, timeout=120
    )
    assert rendered.returncode == 0, rendered.stderr
    out = tmp_path / "rendered.yaml"
    out.write_text(rendered.stdout)
    result = validate([str(out)], KUBERNETES_VERSIONS[0])
    assert result.returncode == 0, result.stdout + result.stderr
    docs = [d for d in yaml.safe_load_all(rendered.stdout) if d]
    assert all(d["metadata"]["namespace"] == "dealcoach" for d in docs)
    images = re.findall(r"image: (\S+)", rendered.stdout)
    assert images and all(i == "registry.example.com/dealcoach:0.1.0" for i in images)


def test_no_secret_value_is_committed() -> None:
    for doc in documents():
        assert doc["kind"] != "Secret", "Secrets are created out of band, never committed"
    for path in [*manifest_files(), K8S / "kustomization.yaml"]:
        text = path.read_text()
        assert not SLACK_TOKEN.search(text), f"{path.name} holds a Slack token"
        assert "secretGenerator" not in text
    for kind in ("Deployment", "Job"):
        for container in pod_spec(kind)["containers"]:
            for env in container.get("env", []):
                if SECRET_NAME.search(env["name"]):
                    assert "value" not in env, f"{kind} {env['name']} is inline"
                    assert env["valueFrom"]["secretKeyRef"]["name"] == "dealcoach-secrets"


def test_the_configmap_holds_only_known_non_secret_settings() -> None:
    fields = {name.upper() for name in Settings.model_fields}
    data = one("ConfigMap")["data"]
    assert set(data) <= fields
    assert not [key for key in data if SECRET_NAME.search(key)]


def test_the_deployment_runs_several_replicas_with_probes_on_readyz_and_healthz() -> None:
    deployment = one("Deployment")
    assert deployment["spec"]["replicas"] >= 2
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    [container] = pod_spec("Deployment")["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["args"][0] == "serve"
    assert {p["containerPort"] for p in container["ports"]} == {3000}


def test_every_container_has_resource_requests_and_limits() -> None:
    for kind in ("Deployment", "Job"):
        for container in pod_spec(kind)["containers"]:
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"]), kind
            assert {"cpu", "memory"} <= set(resources["limits"]), kind


def test_pods_run_as_the_images_non_root_user_with_a_read_only_root() -> None:
    uid = re.search(r"^USER (\d+)", (REPO / "deploy" / "Dockerfile").read_text(), re.M)
    assert uid
    for kind in ("Deployment", "Job"):
        spec = pod_spec(kind)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] == int(uid.group(1))
        assert spec["automountServiceAccountToken"] is False
        for container in spec["containers"]:
            ctx = container["securityContext"]
            assert ctx["readOnlyRootFilesystem"] is True
            assert ctx["allowPrivilegeEscalation"] is False
            assert ctx["capabilities"]["drop"] == ["ALL"]
            mounts = {m["mountPath"] for m in container["volumeMounts"]}
            assert "/tmp" in mounts  # the one writable place


def test_the_secret_is_referenced_by_envfrom_and_secretkeyref() -> None:
    [container] = pod_spec("Deployment")["containers"]
    refs = [e.get("secretRef", {}).get("name") for e in container["envFrom"]]
    assert "dealcoach-secrets" in refs
    required = {e["name"] for e in container["env"] if "secretKeyRef" in e.get("valueFrom", {})}
    assert {"DATABASE_URL", "SLACK_SIGNING_SECRET"} <= required


def test_the_migration_job_runs_db_upgrade_once() -> None:
    job = one("Job")
    assert job["metadata"]["labels"]["app.kubernetes.io/component"] == "migrate"
    spec = pod_spec("Job")
    assert spec["restartPolicy"] == "Never"
    [container] = spec["containers"]
    assert container["args"] == ["db", "upgrade"]
    assert job["spec"]["backoffLimit"] <= 3


def test_service_pdb_and_hpa_select_the_deployments_pods() -> None:
    labels = one("Deployment")["spec"]["template"]["metadata"]["labels"]
    service = one("Service")
    assert service["spec"]["selector"].items() <= labels.items()
    pdb = one("PodDisruptionBudget")
    assert pdb["apiVersion"] == "policy/v1"
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    hpa = one("HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": one("Deployment")["metadata"]["name"],
    }
    assert hpa["spec"]["minReplicas"] >= 2
    assert pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"]


def test_the_ingress_exposes_slack_and_teams_but_not_metrics_or_probes() -> None:
    ingress = one("Ingress")
    service = one("Service")
    port_names = {p["name"] for p in service["spec"]["ports"]}
    paths = []
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            assert backend["name"] == service["metadata"]["name"]
            assert backend["port"]["name"] in port_names
            paths.append(path["path"])
    assert "/slack" in paths and "/api/messages" in paths
    assert not {"/", "/metrics", "/healthz", "/readyz"} & set(paths)
    assert ingress["spec"]["tls"]

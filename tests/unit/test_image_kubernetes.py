"""--kubernetes: a Deployment and a Service, valid against the Kubernetes schemas."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from python_buildpack.image import kubernetes
from python_buildpack.image.config import AppFacts
from python_buildpack.image.reference import parse_reference

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(("uses_sdk", "path"), [(True, "/__engine/1/ping"), (False, "/")])
def test_manifests_are_valid_and_carry_the_apps_settings(tmp_path: Path, uses_sdk: bool, path: str) -> None:
    facts = AppFacts("gunicorn x:y", "3.11.7", "0.2.0", 45.0, uses_sdk=uses_sdk)
    target = tmp_path / "app.k8s.yaml"
    kubernetes.write_manifests(target, parse_reference("ghcr.io/acme/my_app:1"), DIGEST, facts)
    text = target.read_text()
    assert "kubectl create secret generic my-app-leancloud" in text
    documents = list(yaml.safe_load_all(text))
    assert [document["kind"] for document in documents] == ["Deployment", "Service"]
    for document in documents:
        kubernetes_validate.validate(document, kubernetes_validate.utils.latest_version(), strict=True)
    pod = documents[0]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"].endswith(f"@{DIGEST}")
    assert pod["terminationGracePeriodSeconds"] >= 10
    assert container["startupProbe"]["periodSeconds"] * container["startupProbe"]["failureThreshold"] >= 45
    assert container["readinessProbe"]["httpGet"]["path"] == path
    assert container["livenessProbe"]["httpGet"]["path"] == path
    assert container["envFrom"] == [{"secretRef": {"name": "my-app-leancloud"}}]
    assert "LEANCLOUD_APP_MASTER_KEY=..." in text
    assert documents[1]["spec"]["ports"][0]["targetPort"] == "http"

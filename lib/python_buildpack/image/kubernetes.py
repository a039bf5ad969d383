"""`--kubernetes FILE`: a Deployment and a Service that run the image as
LeanEngine ran the app.

The health check becomes probes: the startup probe polls every second for
startupTimeout seconds (as the platform did), readiness and liveness use
`/__engine/1/ping` for apps with the LeanCloud SDK and `/` otherwise. Pods get
15 s to stop after SIGTERM (the platform gave at least 10; gunicorn stops
within 8). The LEANCLOUD_* variables come from a Secret the user creates
(the command is in the file's first lines): the master key never sits in the
manifest.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import yaml

from python_buildpack.image.config import AppFacts
from python_buildpack.image.launcher import DEFAULT_PORT
from python_buildpack.image.layers import APP_GID, APP_UID
from python_buildpack.image.reference import Reference
from python_buildpack.support import partial_files

SDK_PING = "/__engine/1/ping"
GRACE_SECONDS = 15


def app_name(reference: Reference) -> str:
    """A DNS-1123 label from the repository's last component."""
    name = re.sub(r"[^a-z0-9-]+", "-", reference.repository.rsplit("/", 1)[-1].lower()).strip("-")
    return (name or "app")[:50].rstrip("-")


def secret_name(reference: Reference) -> str:
    return f"{app_name(reference)}-leancloud"


def manifests(reference: Reference, digest: str, facts: AppFacts) -> list[dict[str, Any]]:
    name = app_name(reference)
    labels = {"app.kubernetes.io/name": name}
    path = SDK_PING if facts.uses_sdk else "/"
    probe = {"httpGet": {"path": path, "port": "http"}, "timeoutSeconds": 2}
    image = str(reference.with_digest(digest))
    container = {
        "name": "web",
        "image": image,
        "ports": [{"name": "http", "containerPort": DEFAULT_PORT, "protocol": "TCP"}],
        "env": [{"name": "LEANCLOUD_APP_PORT", "value": str(DEFAULT_PORT)}],
        "envFrom": [{"secretRef": {"name": secret_name(reference)}}],
        "startupProbe": {
            **probe,
            "periodSeconds": 1,
            "failureThreshold": max(1, math.ceil(facts.startup_timeout)),
        },
        "readinessProbe": {**probe, "periodSeconds": 5, "failureThreshold": 3},
        "livenessProbe": {**probe, "periodSeconds": 10, "failureThreshold": 3},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "runAsNonRoot": True,
            "runAsUser": APP_UID,
            "runAsGroup": APP_GID,
        },
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "terminationGracePeriodSeconds": GRACE_SECONDS,
                    "securityContext": {"fsGroup": APP_GID},
                    "containers": [container],
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "selector": labels,
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }
    return [deployment, service]


def write_manifests(path: Path, reference: Reference, digest: str, facts: AppFacts) -> None:
    header = (
        "# Written by the LeanEngine Python buildpack (bin/image --kubernetes).\n"
        f"# First create the Secret with the app's LeanCloud variables (never put them in this file):\n"
        f"#   kubectl create secret generic {secret_name(reference)} \\\n"
        "#     --from-literal=LEANCLOUD_APP_ID=... --from-literal=LEANCLOUD_APP_KEY=... \\\n"
        "#     --from-literal=LEANCLOUD_APP_MASTER_KEY=... --from-literal=LEANCLOUD_APP_ENV=production\n"
        "# then: kubectl apply -f " + path.name + "\n"
    )
    text = header + yaml.safe_dump_all(
        manifests(reference, digest, facts), sort_keys=False, explicit_start=True
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_files.partial_path(path)
    partial.write_text(text)
    partial.replace(path)

"""The packaged buildpack as a buildpackage: an OCI image layout (Distribution
API, "Buildpackage") that `pack buildpack package`'s output stands for and
kpack's ClusterStore and ClusterBuildpack read from a registry once copied
there (`skopeo copy oci:DIR:VERSION docker://...`).

One layer holds the buildpack at /cnb/buildpacks/<id with / as _>/<version>/
(pack's escaping of the spec's <buildpack ID> path), owned by root; the config
carries the labels the lifecycle and pack read:
`io.buildpacks.buildpackage.metadata` and `io.buildpacks.buildpack.layers`.
Written with the image stage's reproducible layer, config and layout code.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from python_buildpack.cnb import toml_files
from python_buildpack.image import layout
from python_buildpack.image.blobs import Blob
from python_buildpack.image.config import assemble, rfc3339
from python_buildpack.image.layers import DEFAULT_EPOCH, Layer, write_tree_layer


def install_path(buildpack_id: str, version: str) -> str:
    return f"cnb/buildpacks/{buildpack_id.replace('/', '_')}/{version}"


def image_config(descriptor: dict[str, Any], layer: Layer, epoch: int) -> dict[str, Any]:
    buildpack = descriptor["buildpack"]
    identity, version = buildpack["id"], buildpack["version"]
    targets = descriptor.get("targets", [])
    metadata = {"id": identity, "version": version, "name": buildpack.get("name", ""),
                # "stacks" is the Distribution API's required key; "*" is any stack,
                # and targets (Buildpack API 0.10) say where it runs.
                "stacks": [{"id": "*"}], "targets": targets}
    layers = {identity: {version: {"api": descriptor["api"], "stacks": [{"id": "*"}], "targets": targets,
                                   "layerDiffID": layer.diff_id, "name": buildpack.get("name", "")}}}
    return {
        "created": rfc3339(epoch),
        "architecture": "amd64",
        "os": "linux",
        "config": {"Labels": {"io.buildpacks.buildpackage.metadata": json.dumps(metadata, sort_keys=True),
                              "io.buildpacks.buildpack.layers": json.dumps(layers, sort_keys=True)}},
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id]},
        "history": [{"created": rfc3339(epoch), "created_by": f"buildpack {identity}@{version}"}],
    }


def _no_base(blob: Blob) -> Iterator[bytes]:
    raise AssertionError(f"a buildpackage has no base layer to fetch ({blob.digest})")


def write_layout(buildpack_dir: Path, directory: Path, epoch: int = DEFAULT_EPOCH) -> str:
    """The buildpackage of buildpack_dir in the OCI layout `directory`, tagged with
    its version; returns the manifest digest."""
    descriptor = toml_files.read(buildpack_dir / "buildpack.toml")
    if descriptor is None:
        raise FileNotFoundError(f"{buildpack_dir}/buildpack.toml")
    version = descriptor["buildpack"]["version"]
    with tempfile.TemporaryDirectory(prefix="buildpackage-") as scratch:
        layer = write_tree_layer(buildpack_dir, install_path(descriptor["buildpack"]["id"], version),
                                 Path(scratch) / "layer.tar.gz", epoch, name="buildpack")
        image = assemble(image_config(descriptor, layer, epoch), [layer], None, {})
        layout.write_oci_layout(image, directory, version, _no_base)
    return image.digest

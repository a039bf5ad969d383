"""bin/image BUILD_DIR IMAGE_REF: the compiled slug as an image, published.

Analyse first (arguments, slug, base, base check), then build the layers in a
scratch directory outside the slug, then publish: to the registry (the
default), or to an OCI layout directory or a tarball.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from python_buildpack.image import base as base_image
from python_buildpack.image import config as image_config
from python_buildpack.image import launcher, layer_cache, layers, layout, os_needs, push, slug
from python_buildpack.image.blobs import Blob
from python_buildpack.image.options import ImageArguments, parse_arguments
from python_buildpack.image.reference import Reference, parse_reference
from python_buildpack.image.registry import Registry
from python_buildpack.reporting import errors, output

_TIMEZONE = re.compile(r"\A[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+)*\Z")


def _registry(
    reference: Reference, arguments: ImageArguments, environ: Mapping[str, str], target: Reference
) -> Registry:
    plain = reference.is_loopback or (arguments.plain_http and reference.registry == target.registry)
    return Registry(reference.api_host, environ, pushed_to=target.api_host, plain_http=plain)


def image_command(args: list[str], environ: Mapping[str, str]) -> int:
    arguments = parse_arguments(args)
    build_dir = Path(arguments.build_dir)
    if not build_dir.is_dir():
        raise errors.build_dir_missing(arguments.build_dir)
    if not _TIMEZONE.match(arguments.timezone) or ".." in arguments.timezone:
        raise errors.image_bad_timezone(arguments.timezone)
    target = parse_reference(arguments.image_ref)
    base_reference = parse_reference(arguments.base or base_image.DEFAULT_BASE)
    facts = slug.read_facts(build_dir)
    init = launcher.init_binary()
    if init is None:
        raise errors.image_not_compiled(
            str(build_dir), "the buildpack's tools lack dumb-init (reinstall them)"
        )
    epoch = layers.source_date_epoch(dict(environ))
    with _registry(base_reference, arguments, environ, target) as base_client:
        architecture, base = check_base_image(build_dir, base_client, base_reference, environ)
        with tempfile.TemporaryDirectory(prefix="leanengine-image-") as scratch:
            output.heading("Writing the layers")
            built = write_layers(
                build_dir, Path(scratch), facts.web_command, init, epoch=epoch, environ=environ
            )
            options = image_config.ImageOptions(
                arguments.timezone,
                arguments.source,
                arguments.revision,
                arguments.version or (target.tag if target.tag != "latest" else "") or "",
            )
            document = image_config.image_config(
                facts, options, built, architecture=architecture, epoch=epoch, base=base
            )
            image = image_config.assemble(document, built, base, {})
            publish(
                image,
                arguments,
                target,
                base_client=base_client,
                base_reference=base_reference,
                epoch=epoch,
                environ=environ,
            )
    if arguments.kubernetes:
        path = Path(arguments.kubernetes)
        from python_buildpack.image import kubernetes  # noqa: PLC0415 -- only with --kubernetes (it loads PyYAML)

        kubernetes.write_manifests(path, target, image.digest, facts)
        output.info(f"Kubernetes Deployment and Service: {path}")
    output.heading(f"Image {target.with_digest(image.digest)}", timed=False)
    return 0


def check_base_image(
    build_dir: Path, client: Registry, reference: Reference, environ: Mapping[str, str]
) -> tuple[str, image_config.BaseImage]:
    """The base's manifest and config, and the check that it can run the slug."""
    output.heading(f"Base image {reference}")
    needs = os_needs.read_needs(build_dir)
    architecture = str(needs.get("architecture") or os_needs.architecture())
    base = base_image.resolve_base(client, reference, architecture)
    files, cached = base_image.base_files(client, reference, base, environ)
    output.info(
        f"linux/{architecture}, {len(base.layers)} layer(s), {base.digest[:19]}; file list"
        f" {'from the cache' if cached else 'read from its layers'}"
    )
    for notice in base_image.check_base(str(reference), files, needs):
        output.info(notice)
    wanted = len(needs.get("libraries") or {})
    glibc = f" and glibc {files.glibc} (the slug needs {needs['glibc']}+)" if needs.get("glibc") else ""
    output.info(f"Has the {wanted} system libraries the slug needs{glibc}")
    return architecture, base


def write_layers(
    build_dir: Path, work: Path, web_command: str, init: Path, *, epoch: int, environ: Mapping[str, str]
) -> list[layers.Layer]:
    root = layer_cache.cache_root(environ)
    built = []
    for name in ("runtime", "app"):
        layer, cached = layer_cache.slug_layer(build_dir, name, work / f"{name}.tar.gz", epoch, root)
        built.append(layer)
        output.info(
            f"{name:8} {layer.blob.size / 1e6:6.1f} MB  {layer.files:6} files  {layer.blob.digest[:19]}"
            + ("  (unchanged: from the cache)" if cached else "")
        )
    launch = layers.write_launch_layer(
        launcher.launch_files(web_command, init), work / "launch.tar.gz", epoch
    )
    output.info(
        f"launch   {launch.blob.size / 1e6:6.1f} MB  {launch.files:6} files  {launch.blob.digest[:19]}"
    )
    return [*built, launch]


def publish(
    image: image_config.Image,
    arguments: ImageArguments,
    target: Reference,
    *,
    base_client: Registry,
    base_reference: Reference,
    epoch: int,
    environ: Mapping[str, str],
) -> None:
    def fetch(blob: Blob) -> Iterator[bytes]:
        return base_client.stream_blob(
            base_reference.repository, blob.digest, f"downloading the base's layer {blob.digest[:19]}"
        )

    ref_name = target.tag or "latest"
    if arguments.oci_layout:
        output.heading(f"Writing the OCI layout {arguments.oci_layout}")
        layout.write_oci_layout(image, Path(arguments.oci_layout), ref_name, fetch)
        output.info(f"{image.digest} tagged {ref_name}")
    if arguments.tarball:
        output.heading(f"Writing the archive {arguments.tarball}")
        layout.write_tarball(
            image, Path(arguments.tarball), str(target), ref_name=ref_name, epoch=epoch, fetch=fetch
        )
        output.info(f"podman load -i {arguments.tarball}  (or docker load -i)")
    if arguments.pushes:
        output.heading(f"Pushing to {target.registry}/{target.repository}")
        if base_reference.api_host == target.api_host:
            push.push_image(base_client, base_client, image, target, base_reference)
        else:
            with _registry(target, arguments, environ, target) as client:
                push.push_image(client, base_client, image, target, base_reference)


def main(args: list[str]) -> int:
    return image_command(args, os.environ)

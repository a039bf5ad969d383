"""The registry publisher: every blob the target lacks, then the manifest.

Base layers are mounted from the base's repository when it is on the same
registry (never downloaded or uploaded); from another registry they are
streamed across, once: a later push finds them with HEAD. Our layers and the
config go up only when HEAD says the registry lacks them, so a re-run (or a
push after a code-only change) uploads only what is new.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from python_buildpack.image import blobs
from python_buildpack.image.blobs import Blob
from python_buildpack.image.config import Image
from python_buildpack.image.reference import Reference
from python_buildpack.image.registry import Registry
from python_buildpack.reporting import errors, output

_PARALLEL_BLOBS = 4


def _base_layer(
    client: Registry, base_client: Registry, blob: Blob, target: Reference, base: Reference
) -> None:
    if (
        client.host == base_client.host
        and base.repository != target.repository
        and client.mount_blob(target.repository, blob.digest, base.repository)
    ):
        return
    what = f"copying the base's layer {blob.digest[:19]}"
    client.upload_blob(target.repository, blob, base_client.stream_blob(base.repository, blob.digest, what))


def push_image(
    client: Registry, base_client: Registry, image: Image, target: Reference, base: Reference
) -> None:
    ours = {blob.digest for blob in image.layers if blob.path is not None}
    config = Blob(image.config.media_type, image.config.digest, image.config.size)

    def send(blob: Blob) -> None:
        if client.has_blob(target.repository, blob.digest):
            client.transfers.present.append(blob.digest)
        elif blob.digest == image.config.digest:
            client.upload_config(target.repository, blob, image.config_bytes)
        elif blob.digest in ours:
            client.upload_blob(target.repository, blob)
        else:
            _base_layer(client, base_client, blob, target, base)

    first, *others = [config, *image.layers]
    send(first)  # alone: it answers the registry's auth challenge once for all the others
    # The other blobs in parallel, as skopeo and crane do: each is a few round
    # trips, which a code-only push otherwise waits out one after the other.
    with ThreadPoolExecutor(max_workers=_PARALLEL_BLOBS) as pool:
        for sent in [pool.submit(send, blob) for blob in others]:
            sent.result()
    digest = client.put_manifest(
        target.repository, target.tag or "latest", blobs.OCI_MANIFEST, image.manifest
    )
    if digest and digest != image.digest:
        raise errors.registry_http_error(
            client.host, "writing the manifest", 201, f"it stored {digest} instead of {image.digest}"
        )
    done = client.transfers
    output.info(
        f"{len(done.uploaded)} blob(s) uploaded, {len(done.mounted)} mounted from {base.repository},"
        f" {len(done.copied)} copied, {len(done.present)} already there; manifest {image.digest}"
    )

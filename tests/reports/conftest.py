from __future__ import annotations

from tests.uploads.pipeline.conftest import keyring, s3  # noqa: F401 - the shared key ring (a worker has it too), S3

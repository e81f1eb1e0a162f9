from __future__ import annotations

# The shared key ring (a worker subprocess has it too), the S3 client, and a fresh bucket per test.
from tests.uploads.pipeline.conftest import bucket, keyring, s3  # noqa: F401 - fixtures

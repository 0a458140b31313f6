"""Cost of one model registration at version 1 and at version N (default 1,000).

Registers N versions of one model, one after the other, on local disk, S3 (moto server) and
GCS (fake-gcs-server), and reports the time and the number of storage requests of the first
and the last registrations. Requests are counted at the HTTP client: s3fs's ``_call_s3`` plus
fsregistry's direct GetObject/PutObject (``storage.requests``) on S3, gcsfs's ``_call`` on GCS.

    .venv/bin/python scripts/bench_registry.py [--versions 1000] [--backends local,s3,gcs]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from typing import Any

os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")

SAMPLE = 10  # registrations averaged at each end


class RequestCounter:
    """Counts HTTP requests a storage sends (0 for local disk)."""

    def __init__(self, storage: Any) -> None:
        self.storage = storage
        self.extra = 0
        fs = getattr(storage, "fs", None)
        name = {"s3": "_call_s3", "gs": "_call"}.get(storage.protocol)
        if fs is not None and name is not None:
            original = getattr(fs, name)

            async def counted(*args: Any, **kwargs: Any) -> Any:
                self.extra += 1
                return await original(*args, **kwargs)

            setattr(fs, name, counted)

    def total(self) -> int:
        if self.storage.protocol == "s3":
            return int(self.storage.requests) + self.extra  # direct client calls + s3fs calls
        return self.extra  # gcsfs: every request goes through _call


def bench(url: str, versions: int) -> dict[str, Any]:
    from fsregistry import Client

    client = Client(tracking_uri=url)
    client.create_registered_model("bench")
    counter = RequestCounter(client.registry_store.storage)
    times: list[float] = []
    requests: list[int] = []
    for i in range(1, versions + 1):
        before = counter.total()
        t0 = time.perf_counter()
        mv = client.create_model_version("bench", f"s3://artifacts/model-{i}")
        times.append(time.perf_counter() - t0)
        requests.append(counter.total() - before)
        assert mv.version == i, (mv.version, i)
    return {
        "first_ms": statistics.mean(times[:SAMPLE]) * 1000,
        "last_ms": statistics.mean(times[-SAMPLE:]) * 1000,
        "first_requests": requests[:SAMPLE],
        "last_requests": requests[-SAMPLE:],
        "v1_ms": times[0] * 1000,
        "vN_ms": times[-1] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", type=int, default=1000)
    parser.add_argument("--backends", default="local,s3,gcs")
    args = parser.parse_args()
    from fsreg_testing.emulators import start_gcs_server, start_s3_server

    for backend in args.backends.split(","):
        if backend == "local":
            url = os.path.join(tempfile.mkdtemp(prefix="fsreg-bench-"), "mlruns")
            result = bench(url, args.versions)
        else:
            emu = start_s3_server() if backend == "s3" else start_gcs_server()
            try:
                os.environ.update(emu.env)
                url = emu.make_bucket(f"bench-{os.getpid()}") + "/mlruns"
                result = bench(url, args.versions)
            finally:
                emu.stop()
        print(
            f"{backend:5}: versions 1-{SAMPLE}: {result['first_ms']:.1f} ms avg, requests "
            f"{result['first_requests']}; versions {args.versions - SAMPLE + 1}-{args.versions}: "
            f"{result['last_ms']:.1f} ms avg, requests {result['last_requests']}",
            flush=True,
        )


if __name__ == "__main__":
    main()

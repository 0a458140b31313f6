"""HTTP requests of a cold registry search on S3 (moto behind the counting proxy), issue 24.

Writes ``--models`` models of ``--versions`` versions each into a new bucket (one model
through the API, the others as copies of its objects under their own names, so populating
takes seconds), then, for each ``--code`` directory in turn (the fsregistry package found
there, e.g. an export of an older commit: ``git archive <commit> fsregistry | tar -x -C
DIR``; ``.`` for this checkout), deletes any registry shards and runs fresh processes, each
one ``search_registered_models`` and one ``search_model_versions`` (all pages), printing the
requests of each search by kind:

1. the first process (no shards yet),
2. a second process (nothing changed),
3. a third after another process changed one version's description.

The shard objects each process wrote go to stderr. Every answer is checked: the second process's against the first's, the third's against the
first's with the change applied, and each code's first answers against the first code's.

Run: ``python bench/registry_shards.py --models 100 --versions 10 --code OLD --code .``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from run import _start_proxy  # noqa: E402

from fsreg_testing.emulators import s3_env, start_s3_server  # noqa: E402

_SEARCH = """
import json, sys, urllib.request
from fsregistry import Client

def counts():
    with urllib.request.urlopen(sys.argv[2]) as r:
        return json.loads(r.read())

def pages(call):
    out, token = [], None
    while True:
        page = call(token)
        out += list(page)
        token = page.token
        if not token:
            return out

from fsregistry.storage.fsspec_store import ObjectStorage
written = []
put = ObjectStorage._put_now
def spied(self, path, *a):
    written.append(path)
    return put(self, path, *a)
ObjectStorage._put_now = spied
c = Client(tracking_uri=sys.argv[1])
out = {}
for name, call in (
    ("search_registered_models", lambda t: c.search_registered_models(max_results=1000, page_token=t)),
    ("search_model_versions", lambda t: c.search_model_versions(max_results=10000, page_token=t)),
):
    before = counts()
    got = pages(call)
    after = counts()
    kinds = {k: after["by_kind"].get(k, 0) - before["by_kind"].get(k, 0) for k in after["by_kind"]}
    if name == "search_registered_models":
        answer = sorted([m.name, [v.version for v in m.latest_versions]] for m in got)
    else:
        answer = sorted([v.name, int(v.version), v.description] for v in got)
    out[name] = {"total": after["total"] - before["total"], "kinds": kinds, "answer": answer}
out["written"] = written
print(json.dumps(out))
"""


def _search(url: str, count_url: str, env: dict[str, str], code: str) -> Any:
    env = dict(env)
    env["PYTHONPATH"] = str(Path(code).resolve())
    out = subprocess.run(
        [sys.executable, "-c", _SEARCH, url, count_url],
        env=env,
        cwd=env["PYTHONPATH"],  # with -c, the working directory comes first on sys.path
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(out.stdout)
    print("written:", found.pop("written"), file=sys.stderr)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--versions", type=int, default=10)
    parser.add_argument(
        "--code", action="append", help="directory holding the fsregistry package to measure"
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="fsreg-regshards-"))
    emu = start_s3_server()
    proxy, proxy_url = _start_proxy("s3", emu.url, workdir)
    try:
        bucket = emu.make_bucket("regshards")
        url = f"{bucket}/mlruns"
        os.environ.update(s3_env(emu.url))
        from fsregistry import Client
        from fsregistry.registry.model_index import SHARD_PREFIX
        from fsregistry.storage import open_storage

        client = Client(tracking_uri=url)
        client.create_registered_model("model-0000")
        for v in range(args.versions):
            client.create_model_version("model-0000", f"s3://src/0/{v}")
        fs = emu.filesystem()
        root = url.split("://", 1)[1]
        files = fs.find(f"{root}/models/model-0000")
        data = fs.cat(files)
        copies = {}
        for i in range(1, args.models):
            name = f"model-{i:04d}"
            for path, raw in data.items():
                new = path.replace("/model-0000/", f"/{name}/")
                copies[new] = raw.replace(b"model-0000", name.encode())
        fs.pipe(copies)
        storage = open_storage(url)
        env = {**os.environ, **s3_env(proxy_url), "AWS_ENDPOINT_URL_S3": proxy_url}
        count_url = proxy_url + "/__bench__/counts"
        reference: Any = None
        for n, code in enumerate(args.code or ["."]):
            for name in storage.list_dir("models")[1]:
                if name.startswith(SHARD_PREFIX):
                    storage.delete(f"models/{name}")
            rows: list[tuple[str, dict[str, Any]]] = []
            first = _search(url, count_url, env, code)
            rows.append(("first process", first))
            if reference is not None:
                for op in first:
                    assert [a[:2] for a in first[op]["answer"]] == reference[op], op
            reference = {op: [a[:2] for a in r["answer"]] for op, r in first.items()}
            second = _search(url, count_url, env, code)
            rows.append(("second process, nothing changed", second))
            for op in first:
                assert second[op]["answer"] == first[op]["answer"], op
            target = (f"model-{min(7 + n, args.models - 1):04d}", min(3 + n, args.versions))
            Client(tracking_uri=url).update_model_version(target[0], str(target[1]), "changed")
            third = _search(url, count_url, env, code)
            rows.append(("third process, one version changed", third))
            changed = [
                [m, v, "changed" if (m, v) == target else d]
                for m, v, d in first["search_model_versions"]["answer"]
            ]
            assert third["search_model_versions"]["answer"] == changed
            print(f"{args.models} models x {args.versions} versions, code: {code}")
            print("| process | search | total | read | list | stat | write |")
            print("|---|---|---:|---:|---:|---:|---:|")
            for what, result in rows:
                for op, r in result.items():
                    k = r["kinds"]
                    print(
                        f"| {what} | {op} | {r['total']} | {k.get('read', 0)} | "
                        f"{k.get('list', 0)} | {k.get('stat', 0)} | {k.get('write', 0)} |"
                    )
            sys.stdout.flush()
    finally:
        proxy.terminate()
        emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

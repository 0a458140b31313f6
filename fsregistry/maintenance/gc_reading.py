"""What ``fsreg gc`` reads (:mod:`fsregistry.maintenance.gc`): the experiments (active and in
``.trash``) and runs whose meta.yaml reads and names its own directory, and the locations of
every live registered model version, which protect their files. A meta.yaml that does not
read is skipped: ``fsreg doctor`` reports it, and gc removes only what it can read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from fsregistry.entities.registry import STAGE_DELETED_INTERNAL
from fsregistry.maintenance.gc_plan import DELETED
from fsregistry.mlruns import layout
from fsregistry.mlruns.metafile import MalformedMetaFile, load_meta
from fsregistry.storage import Storage
from fsregistry.tracking.logged_models import relocate_file_uri


@dataclass
class GcExp:
    """An experiment directory (``<id>`` or ``.trash/<id>``) and its meta.yaml."""

    exp_id: str
    path: str
    meta: dict[str, Any]
    duplicated: bool = False

    @property
    def deleted(self) -> bool:
        return self.meta.get("lifecycle_stage") == DELETED

    def unsettled(self) -> str | None:
        """Why the experiment is caught mid delete or restore, if it is: then neither it nor
        its runs are removed (a restore may have been what the user asked for)."""
        if self.duplicated:
            return (
                f"experiment {self.exp_id} exists both in {self.exp_id}/ and in "
                f".trash/{self.exp_id}/ (an interrupted delete or restore; see fsreg doctor)"
            )
        if self.deleted != self.path.startswith(f"{layout.TRASH}/"):
            return (
                f"experiment {self.exp_id} is {'deleted' if self.deleted else 'active'} but "
                f"lies {'outside' if self.deleted else 'inside'} .trash/ (an interrupted "
                "delete or restore; see fsreg doctor)"
            )
        return None


@dataclass
class GcRunDir:
    """A run directory of an experiment, and its meta.yaml."""

    run_id: str
    exp: GcExp
    meta: dict[str, Any]

    @property
    def path(self) -> str:
        return layout.run_dir(self.exp.path, self.run_id)

    @property
    def deleted(self) -> bool:
        return self.meta.get("lifecycle_stage") == DELETED


def parse_meta(raw: bytes | None, where: str) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        return load_meta(raw, where)
    except MalformedMetaFile:
        return None  # doctor reports it; gc only removes what it can read


def read_experiments(storage: Storage) -> dict[str, GcExp]:
    """Experiments by directory (active and in .trash) whose meta.yaml reads."""
    dirs, _ = storage.list_dir("")
    exp_dirs = [d for d in dirs if d not in layout.RESERVED_ROOT_FOLDERS]
    trash, _ = storage.list_dir(layout.TRASH)
    exp_dirs += [layout.experiment_dir(d, deleted=True) for d in trash]
    metas = storage.read_many(layout.experiment_meta(d) for d in exp_dirs)
    out: dict[str, GcExp] = {}
    for exp_dir in exp_dirs:
        path = layout.experiment_meta(exp_dir)
        meta = parse_meta(metas.get(path), path)
        exp_id = exp_dir.rsplit("/", 1)[-1]
        if meta is not None and str(meta.get("experiment_id")) == exp_id:
            out[exp_dir] = GcExp(exp_id, exp_dir, meta)
    for exp in out.values():
        other = layout.experiment_dir(exp.exp_id, deleted=not exp.path.startswith(layout.TRASH))
        exp.duplicated = other in out
    return out


def read_runs(storage: Storage, experiments: Iterable[GcExp]) -> list[GcRunDir]:
    wanted: dict[str, tuple[GcExp, str]] = {}
    for exp in experiments:
        dirs, _ = storage.list_dir(exp.path)
        for run_id in dirs:
            if run_id not in layout.RESERVED_EXPERIMENT_FOLDERS:
                wanted[layout.run_meta(exp.path, run_id)] = (exp, run_id)
    metas = storage.read_many(wanted)
    runs: list[GcRunDir] = []
    for path, (exp, run_id) in wanted.items():
        meta = parse_meta(metas.get(path), path)
        if meta is not None and str(meta.get("run_id") or meta.get("run_uuid")) == run_id:
            runs.append(GcRunDir(run_id, exp, meta))
    return runs


def live_version_locations(registries: Sequence[Storage]) -> list[tuple[str, str]]:
    """``(label, location)`` of every live model version in the given registry stores."""

    def prune(rel: str) -> bool:
        parts = rel.split("/")
        return len(parts) > 2 or (
            len(parts) == 2 and layout.parse_version_dir_name(parts[1]) is None
        )

    out: list[tuple[str, str]] = []
    for registry in registries:
        paths = [
            f"{layout.MODELS}/{f.path}"
            for f in registry.walk(layout.MODELS, prune=prune, sizes=False)
            if f.path.count("/") == 2 and f.path.endswith(f"/{layout.META}")
        ]
        for path, raw in registry.read_many(paths).items():
            meta = parse_meta(raw, path)
            if meta is None or meta.get("current_stage") == STAGE_DELETED_INTERNAL:
                continue
            _, name, version_dir = path.split("/")[:3]
            label = f"registered model {name!r} {version_dir.replace('-', ' ')}"
            for key in ("storage_location", "source"):
                value = meta.get(key)
                if isinstance(value, str) and value:
                    out.append((label, value.rstrip("/")))
                    out.append((label, relocate_file_uri(value, registry).rstrip("/")))
    return out


__all__ = [
    "GcExp",
    "GcRunDir",
    "live_version_locations",
    "parse_meta",
    "read_experiments",
    "read_runs",
]

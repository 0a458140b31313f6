"""The progress bar of ``fsreg artifacts download``: bytes, rate and time left, on stderr.

Shown when asked (``--progress``), or by default when stderr is a terminal and the download
is large enough to be worth watching; never otherwise, so pipes and ``--json`` stay clean.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

# Below this a download is over before a bar is worth reading.
AUTO_MIN_BYTES = 10 * 1024 * 1024


class DownloadBar:
    """A :class:`~fsregistry.storage.artifact_repo.DownloadProgress` drawn with rich.

    ``show``: True always draws the bar, False never, None decides when the size is known.
    Use as a context manager so the bar is closed even when the download fails.
    """

    def __init__(self, label: str, show: bool | None) -> None:
        self.label = label
        self.show = show
        self._progress: Any = None
        self._task: Any = None

    def start(self, total_bytes: int | None) -> None:
        if self._progress is not None or not self._wanted(total_bytes):
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._progress.start()
        self._task = self._progress.add_task(self.label, total=total_bytes)

    def _wanted(self, total_bytes: int | None) -> bool:
        if self.show is not None:
            return self.show
        return sys.stderr.isatty() and total_bytes is not None and total_bytes > AUTO_MIN_BYTES

    def advance(self, nbytes: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, advance=nbytes)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __enter__(self) -> DownloadBar:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

"""Provenance stored with every figure the suite produces (see docs/measurement.md)."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import importlib.metadata
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

#: Distributions whose versions change numbers; recorded with every result.
TRACKED_PACKAGES = (
    "vposebench",
    "torch",
    "numpy",
    "scipy",
    "pandas",
    "motmetrics",
    "pycocotools",
    "shapely",
    "opencv-python-headless",
)


@dataclasses.dataclass(frozen=True)
class Provenance:
    """Where and with what a result was produced."""

    git_commit: str | None
    git_dirty: bool | None
    #: tracked files that differ from the commit (paths relative to the checkout), None outside one
    git_dirty_files: list[str] | None
    packages: dict[str, str | None]
    python: str
    platform: str
    cpu_model: str
    cpu_count: int | None
    torch_threads: int | None
    gpu: dict[str, Any] | None
    seed: int | None
    timestamp: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Provenance:
        return cls(**{f.name: data.get(f.name) for f in dataclasses.fields(cls)})


def _git(args: list[str], cwd: Path, *, strip: bool = True) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if strip else out.stdout


def _checkout(cwd: str | os.PathLike[str] | None) -> Path:
    return Path(cwd) if cwd is not None else Path(__file__).resolve().parent


#: outputs, not inputs: the committed result records (a run writing them does not dirty its own
#: provenance)
NOT_SOURCES = ("results",)


def dirty_files(cwd: str | os.PathLike[str] | None = None) -> list[str] | None:
    """Files of the checkout holding `cwd` (default: this package) that differ from its commit:
    changed tracked files, and untracked ones git does not ignore (marked "(untracked)");
    relative to the checkout's root, leaving out `NOT_SOURCES`; None outside a checkout."""
    where = _checkout(cwd)
    if not _git(["rev-parse", "HEAD"], where):
        return None
    out = _git(["status", "--porcelain=v1", "-z", "--untracked-files=all", "--", ":(top)",
                *(f":(top,exclude){p}" for p in NOT_SOURCES)], where, strip=False)
    if out is None:
        return None
    files, entries = [], iter(out.split("\0"))
    for entry in entries:
        if len(entry) < 4:
            continue
        state, path = entry[:2], entry[3:]
        if "R" in state or "C" in state:
            next(entries, None)  # the original path of a rename or copy follows
        files.append(f"{path} (untracked)" if state == "??" else path)
    return sorted(files)


def git_state(cwd: str | os.PathLike[str] | None = None) -> tuple[str | None, bool | None]:
    """(commit, dirty) of the checkout holding `cwd` (default: this package), or (None, None)."""
    where = _checkout(cwd)
    commit = _git(["rev-parse", "HEAD"], where)
    if not commit:
        return None, None
    files = dirty_files(where)
    return commit, None if files is None else bool(files)


def package_versions(names: tuple[str, ...] = TRACKED_PACKAGES) -> dict[str, str | None]:
    """Installed version of each distribution, None where it is not installed."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def cpu_model() -> str:
    """The CPU model string (from /proc/cpuinfo where it exists)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def gpu_info() -> dict[str, Any] | None:
    """Name, driver, CUDA and cuDNN versions of the current CUDA device, or None without one."""
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    index = torch.cuda.current_device()
    props = torch.cuda.get_device_properties(index)
    driver = None
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader", f"--id={index}"],
            capture_output=True, text=True, timeout=10, check=True,
        )
        driver = out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        pass
    return {
        "name": props.name,
        "total_memory_bytes": int(props.total_memory),
        "capability": f"{props.major}.{props.minor}",
        "driver": driver,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),
        "cudnn_benchmark": bool(torch.backends.cudnn.benchmark),
    }


def torch_threads() -> int | None:
    try:
        import torch
    except ImportError:
        return None
    return torch.get_num_threads()


def collect(seed: int | None = None, *, cwd: str | os.PathLike[str] | None = None,
            torch_details: bool = True) -> Provenance:
    """Gather provenance now: git state, versions, Python, CPU, threads, GPU, seed, UTC time.

    ``torch_details=False`` leaves out torch's thread count and the GPU (None) without
    importing torch, for figures that involve no model (e.g. scoring prediction files).
    """
    commit, dirty = git_state(cwd)
    return Provenance(
        git_commit=commit,
        git_dirty=dirty,
        git_dirty_files=dirty_files(cwd) if dirty else ([] if dirty is False else None),
        packages=package_versions(),
        python=sys.version.split()[0],
        platform=platform.platform(),
        cpu_model=cpu_model(),
        cpu_count=os.cpu_count(),
        torch_threads=torch_threads() if torch_details else None,
        gpu=gpu_info() if torch_details else None,
        seed=seed,
        timestamp=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    )

"""The Slurm worker settings of `--cluster slurm`: a small TOML file, read into `SlurmConfig`.

Each Dask worker is one Slurm job (dask-jobqueue's `SLURMCluster`) with these resources; see
docs/cluster.md for the file format and an example.
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
from pathlib import Path
from typing import Any

from .config import ConfigBase, positive
from .errors import UserError

#: where `--cluster slurm` looks when no file is named
DEFAULT_SLURM_CONFIG = "vposebench-slurm.toml"

_WALLTIME = re.compile(r"^(\d+-)?\d{1,2}:\d{2}(:\d{2})?$")
_MEMORY = re.compile(r"^\d+(\.\d+)?\s*(B|[KMGT]i?B)$", re.IGNORECASE)


@dataclasses.dataclass
class SlurmConfig(ConfigBase):
    """One Slurm job per Dask worker; `jobs` of them are kept running."""

    #: Slurm partition (`#SBATCH -p`); "" for the cluster's default
    partition: str = ""
    #: Slurm account (`#SBATCH -A`); "" for none
    account: str = ""
    #: CPU cores per job (`--cpus-per-task`): the worker's task slots
    cores: int = 2
    #: GPUs per job (`--gres=gpu:N`); 0 for CPU-only workers
    gpus: int = 0
    #: memory per job, e.g. "16GB"
    memory: str = "4GB"
    #: wall-time limit per job, [D-]HH:MM[:SS]
    walltime: str = "01:00:00"
    #: worker jobs to start
    jobs: int = 1
    #: further `#SBATCH` options, e.g. ["--constraint=a100"]
    extra: tuple[str, ...] = ()
    #: shell lines run before the worker starts, e.g. ["module load cuda/12.4"]
    prologue: tuple[str, ...] = ()
    #: the workers' Python ("" for the one running vposebench)
    python: str = ""
    #: network interface the scheduler and workers talk over, e.g. "ib0" ("" for the default)
    interface: str = ""
    #: where workers spill and keep scratch files ("" for Dask's default)
    local_directory: str = ""
    #: where Slurm writes the workers' logs ("" for the current folder)
    log_directory: str = ""
    #: timing jobs wait until no other job runs anywhere (true when workers share nodes)
    quiet_timing: bool = False

    def validate(self) -> None:
        positive(self.cores, "cores")
        positive(self.gpus, "gpus", zero=True)
        positive(self.jobs, "jobs")
        if not _WALLTIME.match(self.walltime):
            raise UserError(f"expected [D-]HH:MM[:SS], got {self.walltime!r}", field="walltime")
        if not _MEMORY.match(self.memory):
            raise UserError(f"expected an amount such as 16GB, got {self.memory!r}", field="memory")

    def job_directives(self) -> list[str]:
        """`#SBATCH` options beyond those dask-jobqueue writes itself."""
        return ([f"--gres=gpu:{self.gpus}"] if self.gpus else []) + list(self.extra)

    def worker_resources(self) -> str:
        """The workers' `--resources` argument (see `dask_engine.WorkerShape`)."""
        gpu = f",gpu={self.gpus}" if self.gpus else ""
        return f"cpu={self.cores},exclusive=1{gpu}"

    def cluster_options(self) -> dict[str, Any]:
        """Keyword arguments of `dask_jobqueue.SLURMCluster`."""
        return {
            "queue": self.partition or None, "account": self.account or None,
            "cores": self.cores, "processes": 1, "memory": self.memory,
            "walltime": self.walltime, "job_extra_directives": self.job_directives(),
            "job_script_prologue": list(self.prologue),
            "worker_extra_args": ["--resources", self.worker_resources()],
            "python": self.python or sys.executable, "interface": self.interface or None,
            "local_directory": self.local_directory or None,
            "log_directory": self.log_directory or None,
        }


def _toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise UserError("no Slurm settings file here (see docs/cluster.md for its format)",
                        path=path) from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"not valid TOML ({exc})", path=path) from None


def load_slurm_config(path: str | os.PathLike[str]) -> SlurmConfig:
    """Read a Slurm settings file; a bad key or value is a UserError naming file and field."""
    path = Path(path)
    values = _toml(path)
    try:
        return SlurmConfig.from_dict(values, source="slurm settings")
    except UserError as exc:
        raise UserError(exc.message, path=path, field=exc.field) from None

"""Where a run plan's datasets lie and their content keys: the embedded synthetic benchmark of
the run's seed (keyed by its config hash) or a user's folder (keyed by its fingerprint), and the
folder of the ground truth each evaluation's metric reads."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .experiments import DatasetPlan, ExperimentPlan
from .fingerprint import EVALUATION_CODE, code_fingerprint
from .hashing import folder_fingerprint
from .runner import DatasetSpec

if TYPE_CHECKING:
    from vposebench.datasets.synthetic.config import SynthConfig


def synth_config(experiments: ExperimentPlan, seed: int) -> SynthConfig | None:
    """The synthetic data config of a run with `seed` (None when the plan has no synthetic data)."""
    from vposebench.datasets.synthetic.config import preset as synth_preset

    if experiments.synthetic is None:
        return None
    return dataclasses.replace(synth_preset(experiments.synthetic.preset), seed=seed,
                               **dict(experiments.synthetic.overrides))


@dataclasses.dataclass(frozen=True)
class DataPlace:
    """Where a plan's dataset lies in this run and its content key."""

    root: Path
    content: str  # the synthetic config hash, or the folder's fingerprint
    block: dict[str, Any]  # what a record's `dataset` block says of the data

    def split(self, dataset: DatasetPlan, split: str | None, stride: int = 1) -> DatasetSpec:
        return DatasetSpec(dataset.adapter, str(self.root), split, stride, dataset.options)


def data_places(experiments: ExperimentPlan, synth: SynthConfig | None,
                data_root: Path | None) -> dict[str, DataPlace]:
    """Each of the plan's datasets: its folder and content key."""
    places = {}
    for name, dataset in experiments.datasets.items():
        if dataset.synthetic is not None:
            assert synth is not None and data_root is not None
            places[name] = DataPlace(data_root / dataset.synthetic, synth.config_hash(),
                                     {"generator": synth.config_hash(), "synth_preset_seed": synth.seed})
        else:
            assert dataset.root is not None
            fingerprint = folder_fingerprint(dataset.root)
            places[name] = DataPlace(Path(dataset.root), fingerprint, {"fingerprint": fingerprint})
    return places


def gt_folder(cache: Path, experiments: ExperimentPlan, place: DataPlace,
               protocol_name: str, stride: int) -> tuple[Path, bool]:
    """Where the metric's GT lies, and whether it must be converted from the test split."""
    protocol = experiments.protocols[protocol_name]
    dataset = experiments.datasets[protocol.dataset]
    if dataset.adapter == "synthetic" and dataset.synthetic == "" and stride == 1:
        return place.root / "annotations" / protocol.test_split, False
    return (cache / "gt" / f"{protocol_name}-s{stride}-{place.content}-"
            f"{code_fingerprint(EVALUATION_CODE)}"), True

"""The results folder: one JSON file per record, written atomically, read back validated."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from .atomic import remove_stale_temporaries, write_json
from .errors import UserError
from .formats import load_json
from .records import ResultRecord

PathLike = str | os.PathLike[str]


class ResultsStore:
    """Records under `root` (default `results/`), one `<key>.json` each."""

    def __init__(self, root: PathLike = "results") -> None:
        self.root = Path(root)

    def path_for(self, key: str) -> Path:
        return self.root / "records" / f"{key}.json"

    def has(self, key: str) -> bool:
        return self.path_for(key).is_file()

    def save(self, record: ResultRecord) -> Path:
        path = self.path_for(record.key)
        write_json(path, record.to_dict())
        return path

    def load(self, key: str) -> ResultRecord:
        path = self.path_for(key)
        return ResultRecord.from_dict(load_json(path), source=str(path))

    def keys(self) -> list[str]:
        folder = self.root / "records"
        if not folder.is_dir():
            return []
        remove_stale_temporaries(folder)  # left by a writer that was killed
        return sorted(p.stem for p in folder.glob("*.json"))

    def load_all(self) -> list[ResultRecord]:
        """Every record, validated; an unreadable one is a UserError naming it."""
        return [self.load(key) for key in self.keys()]

    def select(self, records: Iterable[ResultRecord] | None = None, **where: object) -> list[ResultRecord]:
        """Records whose top-level fields (or dataset name/split) equal the given values."""
        out = []
        for record in self.load_all() if records is None else records:
            values = {"method": record.method, "dataset": record.dataset["name"],
                      "split": record.dataset["split"], "metric": record.protocol.metric,
                      "seed": record.seed}
            if all(values.get(k) == v for k, v in where.items()):
                out.append(record)
        return out


def require_records(store: ResultsStore) -> list[ResultRecord]:
    records = store.load_all()
    if not records:
        raise UserError("no result records found (run `vposebench run` first)", path=store.root / "records")
    return records

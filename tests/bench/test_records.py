import dataclasses
import json
import math
import re
import typing
from pathlib import Path

import pytest
from helpers.record_fixtures import pck_record, posetrack_record

from vposebench import records
from vposebench.errors import UserError
from vposebench.protocols import BoxSettings, Protocol, TrackerSettings
from vposebench.provenance import Provenance
from vposebench.records import Estimate, ResultRecord, config_hash
from vposebench.results_store import ResultsStore


def test_round_trip_through_json(tmp_path):
    record = posetrack_record("ptm", "PTM", 70.0, 60.0, tags=["ptm-table1"], crowd=(65.0, 55.0))
    store = ResultsStore(tmp_path)
    path = store.save(record)
    assert path.name == f"{record.key}.json"
    back = store.load(record.key)
    assert back.to_dict() == record.to_dict()
    assert back.speed.fps == pytest.approx(50.0)
    assert back.metric("AP", "Total", "crowd").value == 65.0


def test_key_depends_on_config_protocol_and_seed():
    a = posetrack_record("ptm", "A", 1, 1, config={"capacity": 1})
    b = posetrack_record("ptm", "A", 1, 1, config={"capacity": 2})
    assert a.key != b.key and a.config_hash != b.config_hash
    assert config_hash({"x": 1, "y": 2}) == config_hash({"y": 2, "x": 1})
    assert Protocol("posetrack").hash() != Protocol("posetrack", boxes=BoxSettings("gt-jitter")).hash()
    assert Protocol("pck").hash() != Protocol("pck", tracker=TrackerSettings(iou_threshold=0.0)).hash()
    assert Protocol("pck").hash() != Protocol("pck", temporal_stride=2).hash()


def test_nan_metrics_become_null_and_back():
    m = Estimate(float("nan"), None, math.inf)
    assert m.to_dict() == {"value": None, "ci_low": None, "ci_high": None}
    assert Estimate(5.0, 4.0, 6.0).contains(4.5) and not Estimate(5.0, 4.0, 6.0).contains(6.5)


def test_bad_records_are_user_errors(tmp_path):
    record = posetrack_record("ptm", "PTM", 70.0, 60.0)
    data = record.to_dict()
    with pytest.raises(UserError, match="schema version"):
        ResultRecord.from_dict({**data, "schema_version": 99})
    with pytest.raises(UserError, match="does not match"):
        ResultRecord.from_dict({**data, "config": {"backbone": "other"}})
    broken = dict(data)
    del broken["metrics"]
    with pytest.raises(UserError, match="missing field"):
        ResultRecord.from_dict(broken)
    store = ResultsStore(tmp_path)
    store.save(record)
    store.path_for(record.key).write_text(json.dumps(data)[:-20])
    with pytest.raises(UserError, match="invalid JSON"):
        store.load_all()


def test_store_ignores_killed_writer_leftovers(tmp_path):
    store = ResultsStore(tmp_path)
    record = pck_record("CPM", 90.0)
    store.save(record)
    (tmp_path / "records" / ".x.json.abc.tmp").write_text("{partial")
    assert store.keys() == [record.key]
    assert not list((tmp_path / "records").glob("*.tmp"))


SCHEMA1 = Path(__file__).parent.parent / "data" / "records" / "schema1"


def test_schema1_records_stay_readable_with_their_protocol_converted():
    """Schema 1 wrote the tracker as text beside the real association IoU, the normaliser as
    'bbox' and the stride among the options; the reader converts them and keeps the key the
    file was stored under (other records' comparisons refer to it)."""
    paths = sorted(SCHEMA1.glob("*.json"))
    assert len(paths) == 2
    for path in paths:
        record = ResultRecord.from_dict(json.loads(path.read_text()), source=str(path))
        assert record.key == path.stem
    tfc = ResultRecord.from_dict(json.loads(paths[-1].read_text()))
    assert tfc.method == "tfc" and tfc.protocol.metric_options == {"alpha": 0.2, "normaliser": "box"}
    assert tfc.protocol.tracker == TrackerSettings("greedy", 0.0, 0) and tfc.protocol.temporal_stride == 8
    assert tfc.protocol.intervals.resamples == 1000
    ptm = ResultRecord.from_dict(json.loads(paths[0].read_text()))
    assert ptm.protocol.tracker.iou_threshold == 0.3 and ptm.protocol.metric_options == {"mode": "official"}
    assert ptm.to_dict()["schema_version"] == 2 and ptm.to_dict()["key"] != ptm.key
    edited = json.loads(paths[0].read_text())
    edited["config"]["capacity"] = 99
    with pytest.raises(UserError, match="does not match"):
        ResultRecord.from_dict(edited)


def _documented_keys() -> list[tuple[str, bool]]:
    """(key, derived) for each line of the schema block in the records module docstring."""
    block = records.__doc__.split("::\n", 1)[1]
    rows = []
    for line in block.splitlines():
        match = re.match(r"    (\w+)\s+(.*)", line)  # continuation lines are indented further
        if match:
            rows.append((match.group(1), match.group(2).split(", ", 1)[-1].startswith("derived:")))
    return rows


def test_module_docstring_lists_exactly_the_record_fields():
    documented = _documented_keys()
    record = posetrack_record("ptm", "PTM", 70.0, 60.0, crowd=(65.0, 55.0))
    assert [key for key, _ in documented] == list(record.to_dict())
    fields = {f.name for f in dataclasses.fields(ResultRecord)}
    assert {key for key, derived in documented if not derived} == fields
    assert {key for key, derived in documented if derived} == set(record.to_dict()) - fields


RECORDS_DOC = Path(__file__).resolve().parents[2] / "docs" / "records.md"


def _documented_tables(text: str) -> dict[str, list[str]]:
    """Section heading -> the first-column names (`name`) of the table in that section."""
    sections: dict[str, list[str]] = {}
    heading = None
    for line in text.splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
        elif heading and (match := re.match(r"\|\s*`(\w+)`\s*\|", line)):
            sections.setdefault(heading, []).append(match.group(1))
    return sections


def _record_dataclasses() -> dict[str, type]:
    """Every dataclass a record file holds, found from ResultRecord's type hints (wherever it
    is defined), plus Provenance, stored as a plain object."""
    found: dict[str, type] = {"Provenance": Provenance}
    todo = [ResultRecord]
    while todo:
        cls = todo.pop()
        found[cls.__name__] = cls
        for hint in typing.get_type_hints(cls).values():
            for tp in (hint, *_nested_types(hint)):
                if dataclasses.is_dataclass(tp) and tp.__name__ not in found:
                    todo.append(tp)
    return found


def _nested_types(hint: object) -> list[object]:
    out = []
    for arg in typing.get_args(hint):
        out.extend([arg, *_nested_types(arg)])
    return out


def test_records_doc_lists_exactly_the_fields_of_each_record_dataclass():
    documented = _documented_tables(RECORDS_DOC.read_text(encoding="utf-8"))
    classes = _record_dataclasses()
    assert {"ResultRecord", "Protocol", "Estimate", "Comparison", "Speed", "LatencyStats"} <= set(classes)
    wrong = []
    for name, cls in classes.items():
        fields = [f.name for f in dataclasses.fields(cls)]
        if cls is ResultRecord:  # the file's keys, in the order they are written
            fields = list(posetrack_record("ptm", "PTM", 70.0, 60.0).to_dict())
            assert set(fields) - {f.name for f in dataclasses.fields(cls)} == {"key", "config_hash"}
            if documented.get(name) != fields:
                wrong.append(f"{name}: the file's keys in order are {fields}")
        elif name not in documented:
            wrong.append(f"{name}: no '## {name}' section with a field table (fields: {fields})")
        elif sorted(documented[name]) != sorted(fields):
            extra, missing = set(documented[name]) - set(fields), set(fields) - set(documented[name])
            wrong.append(f"{name}: documents {sorted(extra)} that it does not have, "
                         f"leaves out {sorted(missing)}")
    assert not wrong, "docs/records.md:\n" + "\n".join(wrong)

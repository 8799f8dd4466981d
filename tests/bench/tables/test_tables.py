"""Tables render from fixture records to the reviewed Markdown / LaTeX / CSV in expected/."""

from pathlib import Path

import pytest
from helpers.record_fixtures import comparison, pck_record, posetrack_record

from vposebench.registry import TABLES
from vposebench.tables.tfc import plot_downsampling

EXPECTED = Path(__file__).parent / "expected"


def fixture_records():
    base = posetrack_record("baseline", "Baseline", 60.0, 50.0, tags=["ptm-table3"], fps_ms=10.0,
                            groups=(52.0, 58.0, 62.0), hota=45.0, accel=3.0)
    ptm = posetrack_record("ptm", "PTM", 63.5, 52.25, tags=["ptm-table3"], fps_ms=12.5,
                           groups=(57.5, 62.0, 64.5), hota=47.5, accel=2.5,
                           comparisons=[comparison(base, "AP", "Total", 3.5),
                                        comparison(base, "MOTA", "Total", 2.25),
                                        comparison(base, "AP", "Total:degraded", 5.5)])
    caps = [posetrack_record("ptm", "PTM", 60 + c / 4, 50 + c / 8, tags=["ptm-table1"],
                             config={"capacity": c}) for c in (4, 1, 16)]
    vanilla = posetrack_record("ptm", "vanilla", 61.0, 51.0, tags=["ptm-table2"],
                               config={"attention": "vanilla"}, crowd=(55.0, 45.0))
    coda = posetrack_record("ptm", "CoDA", 61.5, 51.5, tags=["ptm-table2"],
                            config={"attention": "coda"}, crowd=(57.0, 46.0),
                            comparisons=[comparison(vanilla, "AP", "Total:crowd", 2.0)])
    pck = [pck_record(name, mean - drop * (s - 1), stride=s, config={"s": s, "m": name},
                      tags=["tfc-fig3"] + (["tfc-table1"] if s == 1 else []),
                      groups=(mean - 10, mean - 3, mean + 1) if s == 1 else None)
           for name, mean, drop in (("CPM", 90.0, 2.0), ("TFC", 92.0, 0.5)) for s in (1, 4)]
    return [base, ptm, *caps, vanilla, coda, *pck]


CASES = [(name, fmt) for name in ("leaderboard", "ptm-table1", "ptm-table2", "ptm-table3", "tfc-table1", "tfc-fig3")
         for fmt in ("markdown", "latex", "csv")]


@pytest.mark.parametrize("name, fmt", CASES)
def test_table_renders_as_reviewed(name, fmt, request):
    text = TABLES.get(name)(fixture_records()).render(fmt)
    suffix = {"markdown": "md", "latex": "tex", "csv": "csv"}[fmt]
    path = EXPECTED / f"{name}.{suffix}"
    if request.config.getoption("--update-expected", default=False):  # pragma: no cover
        path.write_text(text)
    assert text == path.read_text()


def test_empty_tables_and_ordering():
    records = fixture_records()
    assert TABLES.get("ptm-kfr")(records).empty
    cap = TABLES.get("ptm-table1")(records).frame
    assert cap["capacity"].tolist() == ["1", "4", "16"]
    lb = TABLES.get("leaderboard")(records).frame
    synthetic = lb[lb["Dataset"] == "synthetic/val"]
    values = [m.value for m in synthetic["AP"]]
    assert values == sorted(values, reverse=True)


def test_fig3_plot_is_written(tmp_path):
    path = plot_downsampling(fixture_records(), tmp_path / "fig3.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_one_difference_row_per_compared_pair():
    caps = {c: posetrack_record("ptm", "PTM", 60 + c / 4, 50 + c / 8, tags=["ptm-table1"],
                                config={"capacity": c}) for c in (1, 4)}
    top = posetrack_record("ptm", "PTM", 64, 52, tags=["ptm-table1"], config={"capacity": 16},
                           comparisons=[comparison(caps[1], "AP", "Total", 3.75),
                                        comparison(caps[4], "AP", "Total", 3.0),
                                        comparison(caps[4], "MOTA", "Total", 1.5)])
    frame = TABLES.get("ptm-table1")([*caps.values(), top]).frame
    deltas = frame[frame["capacity"].str.startswith("Δ")]
    assert deltas["capacity"].tolist() == ["Δ 16 − 1", "Δ 16 − 4"]
    assert [m.value for m in deltas["total AP"]] == [3.75, 3.0]
    assert deltas["total MOTA"].tolist()[0] is None and deltas["total MOTA"].tolist()[1].value == 1.5


def test_unknown_speed_figures_print_as_dashes():
    """A method behind another runtime reports no parameters or FLOPs: the cells show "-"."""
    import dataclasses

    from helpers.record_fixtures import speed

    from vposebench.records import Speed
    from vposebench.tables.base import format_cell
    from vposebench.tables.common import speed_cells

    unknown = dataclasses.replace(speed(20.0), parameters=None, flops_per_person=None,
                                  offline_crops_per_s=None, runtime="mediapipe 0.10.21")
    record = dataclasses.replace(posetrack_record("blazepose", "BlazePose", 50.0, 40.0), speed=unknown)
    cells = speed_cells(record)
    assert format_cell(cells["Params M"], 2) == "-" and format_cell(cells["GFLOPs"], 3) == "-"
    assert cells["FPS"] == "50.0"
    assert Speed.from_dict(unknown.to_dict()) == unknown  # round trip with the unknowns
    old = {k: v for k, v in speed(20.0).to_dict().items() if k != "runtime"}
    assert Speed.from_dict(old).runtime is None  # records written before the field load


def test_fig3_has_a_difference_row_per_compared_pair_and_rate():
    cpm = {s: pck_record("CPM", 90.0 - s, stride=s, config={"s": s, "m": "CPM"}, tags=["tfc-fig3"])
           for s in (1, 4)}
    tfc = [pck_record("TFC", 91.0 - s / 2, stride=s, config={"s": s, "m": "TFC"}, tags=["tfc-fig3"])
           for s in (1, 4)]
    for record in tfc:
        s = record.protocol.temporal_stride
        record.comparisons = [comparison(cpm[s], "PCK", "Mean", 1.0 + s / 2)]
    table = TABLES.get("tfc-fig3")([*cpm.values(), *tfc])
    frame = table.frame
    assert frame["method"].tolist() == ["CPM", "TFC", "Δ TFC − CPM"]
    diff = frame.iloc[2]
    assert (diff["1x"].value, diff["4x"].value) == (1.5, 3.0)
    assert any("Δ rows" in note for note in table.notes)


def test_literal_and_normalised_coda_rows_are_told_apart():
    """Two CoDA rows differing only in `coda_normalise` get distinct labels, literal first."""
    rows = [posetrack_record("ptm", f"CoDA {norm}", 60.0 + i, 50.0, tags=["ptm-table2"],
                             config={"attention": attention, "coda_normalise": norm}, crowd=(55.0, 45.0))
            for i, (attention, norm) in enumerate([("coda", "mean"), ("vanilla", "mean"), ("coda", "none")])]
    frame = TABLES.get("ptm-table2")(rows).frame
    assert list(frame["attention"]) == ["vanilla attention", "CoDA", "CoDA, normalised (mean)"]

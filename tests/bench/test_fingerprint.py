from vposebench.fingerprint import (
    EVALUATION_CODE,
    PREDICTION_CODE,
    TRAINING_CODE,
    code_fingerprint,
)


def test_fingerprint_follows_the_source(tmp_path, monkeypatch):
    pkg = tmp_path / "fp_demo_pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "layer.py").write_text("SCALE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    first = code_fingerprint(("fp_demo_pkg",))
    assert first == code_fingerprint(("fp_demo_pkg",)) and len(first) == 12
    (pkg / "sub" / "layer.py").write_text("SCALE = 2\n")
    code_fingerprint.cache_clear()
    assert code_fingerprint(("fp_demo_pkg",)) != first


def test_stage_fingerprints_cover_the_code_they_depend_on():
    assert "vposebench.methods" in TRAINING_CODE and "vposebench.methods" in PREDICTION_CODE
    assert "vposebench.metrics" in EVALUATION_CODE and "vposebench.runner" in PREDICTION_CODE
    prints = {code_fingerprint(m) for m in (TRAINING_CODE, PREDICTION_CODE, EVALUATION_CODE)}
    assert len(prints) == 3

"""The structural check of MATLAB v5 files: damage that crashes scipy's compiled reader (found by
fuzzing: a segmentation fault, not an exception) and inconsistent sizes end in one UserError."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import scipy.sparse

from vposebench.datasets.matlab import load_mat
from vposebench.errors import UserError

#: in a savemat file of one 2x3 double `x`: header 128, matrix tag 8, flags 16, dims 16, name 8
DATA_TAG = 176
DIMS = 152


def one_array(path: Path) -> bytearray:
    scipy.io.savemat(path, {"x": np.arange(6.0).reshape(2, 3)})
    raw = bytearray(path.read_bytes())
    assert struct.unpack("<II", raw[DATA_TAG:DATA_TAG + 8]) == (9, 48)  # miDOUBLE, 6 values
    return raw


def test_unknown_data_type_is_an_error_not_a_crash(tmp_path):
    """scipy 1.10-1.17 crash the interpreter on this file; the check runs first (in a child
    process here, so a regression fails this test instead of killing the suite)."""
    raw = one_array(tmp_path / "x.mat")
    raw[DATA_TAG:DATA_TAG + 4] = struct.pack("<I", 56)
    (tmp_path / "bad.mat").write_bytes(raw)
    code = ("import sys; from vposebench.datasets.matlab import load_mat; from vposebench.errors import UserError\n"
            "try: load_mat(sys.argv[1])\nexcept UserError as e: print(e.format())")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "bad.mat")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == (f"{tmp_path / 'bad.mat'}: corrupt MATLAB file: an array has data type 56, "
                                   f"not a numeric type (at byte {DATA_TAG + 8})")


def test_dimensions_that_disagree_with_the_data(tmp_path):
    raw = one_array(tmp_path / "x.mat")
    raw[DIMS + 8:DIMS + 12] = struct.pack("<i", 5)  # 5x3 claimed, 6 values stored
    (tmp_path / "bad.mat").write_bytes(raw)
    with pytest.raises(UserError, match="holds 6 values, its dimensions say 15"):
        load_mat(tmp_path / "bad.mat")


def test_negative_dimension(tmp_path):
    raw = one_array(tmp_path / "x.mat")
    raw[DIMS + 8:DIMS + 12] = struct.pack("<i", -2)
    (tmp_path / "bad.mat").write_bytes(raw)
    with pytest.raises(UserError, match=r"impossible dimensions \(-2, 3\)"):
        load_mat(tmp_path / "bad.mat")


def test_cell_with_fewer_children_than_claimed(tmp_path):
    path = tmp_path / "cell.mat"
    cell = np.empty((1, 2), dtype=object)
    cell[0, 0], cell[0, 1] = np.ones(2), np.zeros(3)
    scipy.io.savemat(path, {"c": cell})
    raw = bytearray(path.read_bytes())
    raw[DIMS + 12:DIMS + 16] = struct.pack("<i", 3)  # 1x3 claimed, 2 children stored
    path.write_bytes(raw)
    with pytest.raises(UserError, match="corrupt MATLAB file: an element tag runs past the end of its parent"):
        load_mat(path)


def test_sparse_arrays_are_refused(tmp_path):
    path = tmp_path / "sparse.mat"
    scipy.io.savemat(path, {"s": scipy.sparse.eye(3).tocsc()})
    with pytest.raises(UserError, match="array class 5 .* is not supported"):
        load_mat(path)


def test_compressed_files_are_checked_inside(tmp_path):
    path = tmp_path / "z.mat"
    scipy.io.savemat(path, {"x": np.arange(6.0).reshape(2, 3), "s": "text"}, do_compression=True)
    assert load_mat(path)["x"].shape == (2, 3)
    raw = bytearray(path.read_bytes())
    raw[140:150] = bytes(10)  # inside the first deflate stream
    path.write_bytes(raw)
    with pytest.raises(UserError, match="compressed variable does not inflate"):
        load_mat(path)

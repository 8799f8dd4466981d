"""Output targets are checked before any work starts."""

from __future__ import annotations

import os

import pytest

from vposebench.errors import UserError
from vposebench.outputs import check_output_file, check_output_folder


def test_a_new_file_or_folder_below_existing_folders_is_fine(tmp_path):
    assert check_output_file(tmp_path / "a/b/result.json", "--json") == tmp_path / "a/b/result.json"
    assert check_output_folder(tmp_path / "a/b", "--out") == tmp_path / "a/b"
    (tmp_path / "old.json").write_text("{}")
    check_output_file(tmp_path / "old.json", "--json")  # replaced atomically later
    check_output_folder(tmp_path, "--out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.json"]  # nothing created


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_a_target_below_a_file_is_refused(tmp_path, kind):
    (tmp_path / "taken").write_text("x")
    check = check_output_file if kind == "file" else check_output_folder
    with pytest.raises(UserError) as info:
        check(tmp_path / "taken/deeper/out", "--out")
    assert info.value.format() == (f"{tmp_path / 'taken/deeper/out'}: --out: cannot be created: "
                                   f"{tmp_path / 'taken'} is a file, not a folder")


def test_a_file_target_that_is_a_folder_and_a_folder_target_that_is_a_file(tmp_path):
    with pytest.raises(UserError, match="is a folder; expected a file name"):
        check_output_file(tmp_path, "--json")
    (tmp_path / "f").write_text("x")
    with pytest.raises(UserError, match="is a file; expected a folder"):
        check_output_folder(tmp_path / "f", "--out")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write anywhere")
def test_a_folder_without_write_permission_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(UserError, match="permission denied"):
            check_output_file(locked / "sub/r.json", "--json")
    finally:
        locked.chmod(0o755)

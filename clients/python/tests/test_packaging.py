"""The package as installed: its metadata, and the in-tree build backend."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import rustlog

PKG_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PKG_ROOT / "build_backend"))
import rustlog_build  # noqa: E402


def test_the_suite_runs_against_the_installed_package() -> None:
    if not os.environ.get("RUSTLOG_PY_EXPECT_INSTALLED"):
        pytest.skip("set RUSTLOG_PY_EXPECT_INSTALLED=1 (scripts/stages/30-python.sh does) to check")
    assert "site-packages" in rustlog.__file__, rustlog.__file__


def test_versions_agree() -> None:
    meta = rustlog_build.project_metadata()
    assert meta["version"] == rustlog.__version__
    assert rustlog.Client.__init__.__kwdefaults__["client_id"] == f"rustlog-python/{rustlog.__version__}"


def test_fallback_pyproject_reader_agrees_with_tomllib() -> None:
    tomllib = pytest.importorskip("tomllib")
    text = (PKG_ROOT / "pyproject.toml").read_text()
    expected = {k: v for k, v in tomllib.loads(text)["project"].items()}
    assert rustlog_build.parse_project_table(text) == expected


def test_wheel_holds_the_package_and_a_valid_record(tmp_path: Path) -> None:
    import base64
    import hashlib
    import zipfile

    name = rustlog_build.build_wheel(str(tmp_path))
    assert name == f"rustlog-{rustlog.__version__}-py3-none-any.whl"
    with zipfile.ZipFile(tmp_path / name) as z:
        names = set(z.namelist())
        assert {"rustlog/__init__.py", "rustlog/client.py", "rustlog/py.typed"} <= names
        dist = f"rustlog-{rustlog.__version__}.dist-info"
        record = z.read(f"{dist}/RECORD").decode().splitlines()
        for line in record:
            path, digest, size = line.rsplit(",", 2)
            if path == f"{dist}/RECORD":
                continue
            data = z.read(path)
            assert size == str(len(data))
            assert digest == "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        assert len(record) == len(names)
        meta = z.read(f"{dist}/METADATA").decode()
        assert "Name: rustlog" in meta and "Requires-Python: >=3.9" in meta


def test_sdist_builds(tmp_path: Path) -> None:
    import tarfile

    name = rustlog_build.build_sdist(str(tmp_path))
    with tarfile.open(tmp_path / name) as t:
        names = t.getnames()
    base = f"rustlog-{rustlog.__version__}"
    assert f"{base}/pyproject.toml" in names and f"{base}/src/rustlog/client.py" in names


def test_type_hints_pass_mypy_strict() -> None:
    """Every function of the package and its build backend is annotated, and
    the annotations hold (Debian's mypy; skipped where it is not installed)."""
    import shutil
    import subprocess

    mypy = shutil.which("mypy", path="/usr/bin") or shutil.which("mypy")
    if mypy is None:
        pytest.skip("mypy is not installed (Debian package mypy; scripts/setup.sh installs it)")
    r = subprocess.run([mypy, "--strict", "--no-incremental", "--python-version", "3.9",
                        str(PKG_ROOT / "src" / "rustlog"), str(PKG_ROOT / "build_backend")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


def test_pip_installs_it_with_no_index_plain_and_editable(tmp_path: Path) -> None:
    """No download at install time: pip with --no-index (no package index at
    all) builds and installs it, as a regular and as an editable install."""
    import subprocess
    import venv

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    pip = [str(env_dir / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "install", "--no-index"]
    probe = [str(env_dir / "bin" / "python"), "-c", "import rustlog; print(rustlog.__file__, rustlog.__version__)"]
    for extra in ([], ["-e"]):
        r = subprocess.run(pip + extra + [str(PKG_ROOT)], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
        out = subprocess.run(probe, capture_output=True, text=True, cwd=tmp_path, timeout=60).stdout.split()
        assert out[1] == rustlog.__version__
        assert (str(PKG_ROOT / "src") in out[0]) == (extra == ["-e"]), out[0]

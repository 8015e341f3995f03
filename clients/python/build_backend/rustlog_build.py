"""A PEP 517 / PEP 660 build backend for the rustlog package, standard library only.

pip builds a package in an isolated environment and downloads the backend
that ``[build-system] requires`` names; offline, that fails. This backend
lives in the source tree (``backend-path``) and requires nothing, so
``pip install ./clients/python`` works without network access. It builds a
pure-Python wheel (py3-none-any) of ``src/rustlog``, an sdist, and an
editable wheel (a .pth file pointing at ``src``), with the metadata taken
from pyproject.toml's ``[project]`` table.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import sys
import tarfile
import time
import zipfile
from typing import Any, Dict, List, Optional, Tuple, Union

Config = Optional[Dict[str, Any]]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src")
PACKAGE = "rustlog"

Value = Union[str, List[str]]


def parse_project_table(text: str) -> Dict[str, Value]:
    """The ``[project]`` table's string and string-array values.

    Used where ``tomllib`` is missing (Python < 3.11); pyproject.toml keeps to
    what this reads (a test checks it agrees with tomllib).
    """
    out: Dict[str, Value] = {}
    in_project = False
    pending: Optional[Tuple[str, str]] = None  # a multi-line array being read
    for raw in text.splitlines():
        line = raw.strip()
        if pending is not None:
            key, acc = pending
            acc += " " + line
            if line.startswith("]"):
                out[key] = re.findall(r'"((?:[^"\\]|\\.)*)"', acc)
                pending = None
            else:
                pending = (key, acc)
            continue
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            in_project = line == "[project]"
            continue
        if not in_project:
            continue
        m = re.match(r'^([A-Za-z0-9_-]+)\s*=\s*(.*)$', line)
        if not m:
            continue
        key, rest = m.group(1), m.group(2).strip()
        if rest.startswith('"'):
            sm = re.match(r'^"((?:[^"\\]|\\.)*)"', rest)
            if sm:
                out[key] = sm.group(1)
        elif rest.startswith("[") and rest.rstrip().endswith("]"):
            out[key] = re.findall(r'"((?:[^"\\]|\\.)*)"', rest)
        elif rest.startswith("["):
            pending = (key, rest)
    return out


def project_metadata() -> Dict[str, Value]:
    """pyproject.toml's ``[project]`` table."""
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        data = f.read()
    if sys.version_info >= (3, 11):
        import tomllib

        project: Dict[str, Value] = tomllib.loads(data.decode("utf-8"))["project"]
        return project
    return parse_project_table(data.decode("utf-8"))


def _names() -> Tuple[str, str]:
    meta = project_metadata()
    return str(meta["name"]), str(meta["version"])


def _metadata_text() -> str:
    meta = project_metadata()
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {meta['name']}",
        f"Version: {meta['version']}",
        f"Summary: {meta.get('description', '')}",
    ]
    if "requires-python" in meta:
        lines.append(f"Requires-Python: {meta['requires-python']}")
    for c in meta.get("classifiers", []):
        lines.append(f"Classifier: {c}")
    readme = meta.get("readme")
    body = ""
    if isinstance(readme, str):
        lines.append("Description-Content-Type: text/markdown")
        with open(os.path.join(ROOT, readme), encoding="utf-8") as f:
            body = f.read()
    return "\n".join(lines) + "\n\n" + body


def _wheel_text() -> str:
    return "Wheel-Version: 1.0\nGenerator: rustlog_build\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


def _dist_info_files() -> Dict[str, bytes]:
    return {
        "METADATA": _metadata_text().encode("utf-8"),
        "WHEEL": _wheel_text().encode("utf-8"),
        "top_level.txt": (PACKAGE + "\n").encode("utf-8"),
    }


def _package_files() -> List[Tuple[str, bytes]]:
    """(path in the wheel, contents) of every file of src/rustlog."""
    out = []
    base = os.path.join(SRC, PACKAGE)
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith((".pyc", ".pyo")):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, SRC).replace(os.sep, "/")
            with open(path, "rb") as f:
                out.append((rel, f.read()))
    return out


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
    return f"{path},sha256={digest},{len(data)}"


def _write_wheel(wheel_directory: str, files: List[Tuple[str, bytes]]) -> str:
    name, version = _names()
    dist_info = f"{name}-{version}.dist-info"
    entries = list(files) + [(f"{dist_info}/{k}", v) for k, v in _dist_info_files().items()]
    record = "\n".join(_record_line(p, d) for p, d in entries) + f"\n{dist_info}/RECORD,,\n"
    entries.append((f"{dist_info}/RECORD", record.encode("utf-8")))
    filename = f"{name}-{version}-py3-none-any.whl"
    stamp = time.gmtime(int(os.environ.get("SOURCE_DATE_EPOCH", "315532800")))[:6]
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in entries:
            info = zipfile.ZipInfo(path, date_time=stamp)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return filename


# ----------------------------------------------------------- PEP 517 hooks


def get_requires_for_build_wheel(config_settings: Config = None) -> List[str]:
    return []


def get_requires_for_build_sdist(config_settings: Config = None) -> List[str]:
    return []


def get_requires_for_build_editable(config_settings: Config = None) -> List[str]:
    return []


def prepare_metadata_for_build_wheel(metadata_directory: str, config_settings: Config = None) -> str:
    name, version = _names()
    dist_info = f"{name}-{version}.dist-info"
    os.makedirs(os.path.join(metadata_directory, dist_info), exist_ok=True)
    for k, v in _dist_info_files().items():
        with open(os.path.join(metadata_directory, dist_info, k), "wb") as f:
            f.write(v)
    return dist_info


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_wheel(wheel_directory: str, config_settings: Config = None, metadata_directory: Optional[str] = None) -> str:
    return _write_wheel(wheel_directory, _package_files())


def build_editable(wheel_directory: str, config_settings: Config = None, metadata_directory: Optional[str] = None) -> str:
    pth = (SRC + "\n").encode("utf-8")
    return _write_wheel(wheel_directory, [(f"__editable__.{PACKAGE}.pth", pth)])


def build_sdist(sdist_directory: str, config_settings: Config = None) -> str:
    name, version = _names()
    base = f"{name}-{version}"
    filename = f"{base}.tar.gz"
    members: List[Tuple[str, bytes]] = [("PKG-INFO", _metadata_text().encode("utf-8"))]
    for rel in ("pyproject.toml", "README.md", "build_backend/rustlog_build.py"):
        with open(os.path.join(ROOT, rel), "rb") as f:
            members.append((rel, f.read()))
    members += [("src/" + p, d) for p, d in _package_files()]
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for rel, data in members:
            info = tarfile.TarInfo(f"{base}/{rel}")
            info.size = len(data)
            info.mode = 0o644
            info.mtime = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))
            tar.addfile(info, io.BytesIO(data))
    return filename

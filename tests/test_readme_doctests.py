"""lupa's README is our acceptance test: its doctests run with ``lupa_rs`` imported as ``lupa``.

The README is never committed: the test uses ``$LUPA_README`` if set, else the seed copy next to
the project (``../shared/seed/lupa-README.rst``), else the README of lupa 2.8's source
distribution, downloaded from PyPI at test time into ``tests/.cache``.
"""

import doctest
import os
import pathlib
import subprocess
import sys
import tarfile
import tempfile

import pytest

import lupa_rs
import lupa_rs.lua54

HERE = pathlib.Path(__file__).resolve().parent
CACHE = HERE / ".cache"


def _download_readme():
    target = CACHE / "lupa-2.8-README.rst"
    if target.exists():
        return target
    CACHE.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, LUPA_NO_BUNDLE="true", LUPA_NO_LUAJIT="true")
        r = subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", "lupa",
             "lupa==2.8", "-d", d],
            env=env, capture_output=True,
        )
        if r.returncode != 0:
            return None
        sdist = next(pathlib.Path(d).glob("lupa-2.8*.tar.gz"))
        with tarfile.open(sdist) as tf:
            member = tf.getmember("lupa-2.8/README.rst")
            target.write_bytes(tf.extractfile(member).read())
    return target


def readmes():
    found = []
    if os.environ.get("LUPA_README"):
        found.append(pathlib.Path(os.environ["LUPA_README"]))
    seed = HERE.parent.parent / "shared" / "seed" / "lupa-README.rst"
    if seed.exists():
        found.append(seed)
    return found


def _run_doctests(path):
    text = path.read_text(encoding="utf-8")
    # lupa_rs runs Lua 5.4 only: examples written for another Lua version use 5.4.
    text = text.replace("from lupa import lua52", "from lupa import lua54 as lua52")
    sys.modules["lupa"] = lupa_rs
    sys.modules["lupa.lua54"] = lupa_rs.lua54
    try:
        parser = doctest.DocTestParser()
        test = parser.get_doctest(text, {}, path.name, str(path), 0)
        out = []
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
        runner.run(test, out=out.append)
        return runner.summarize(verbose=False), "".join(out)
    finally:
        sys.modules.pop("lupa", None)
        sys.modules.pop("lupa.lua54", None)


@pytest.mark.parametrize("which", ["seed", "lupa-2.8"])
def test_readme_doctests(which):
    if which == "seed":
        paths = readmes()
        if not paths:
            pytest.skip("no seed README next to the project (set LUPA_README)")
        path = paths[0]
    else:
        path = _download_readme()
        if path is None:
            pytest.skip("lupa 2.8's sdist could not be downloaded")
    result, report = _run_doctests(path)
    assert result.attempted > 150, report
    assert result.failed == 0, report

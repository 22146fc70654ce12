// Runs the package's pytest suite inside Pyodide under Node: loads the Pyodide runtime from
// ASSETS, installs every wheel in WHEELS (lupa_rs and pytest's) with micropip from the
// emscripten file system, mounts the repository at /repo and runs pytest there (or, with
// --script, a Python script of the repository, such as tests/lupa_suite.py).
//
//   node tests/pyodide/pytest.mjs ASSETS WHEELS REPO [PYTEST ARGS... | --script PATH]
import { readFileSync, readdirSync } from "node:fs";

const [assets, wheelDir, repo, ...pytestArgs] = process.argv.slice(2);
const { loadPyodide } = await import(assets + "/pyodide.mjs");
const py = await loadPyodide({ indexURL: assets + "/" });
await py.loadPackage(["micropip", "packaging"]);
const wheels = readdirSync(wheelDir).filter((f) => f.endsWith(".whl"));
py.FS.mkdirTree("/wheels");
for (const w of wheels) py.FS.writeFile("/wheels/" + w, readFileSync(wheelDir + "/" + w));
const urls = wheels.map((w) => `"emfs:/wheels/${w}"`).join(", ");
await py.runPythonAsync(`import micropip\nawait micropip.install([${urls}], deps=False)`);
py.FS.mkdirTree("/repo");
py.FS.mount(py.FS.filesystems.NODEFS, { root: repo }, "/repo");
py.globals.set("pytest_args", py.toPy(pytestArgs));
const code = await py.runPythonAsync(`
import os, sys
os.environ["COLUMNS"] = "200"
import runpy, lupa_rs
print("lupa_rs", lupa_rs.__version__, "in Pyodide, Python", sys.version.split()[0], sys.platform)
os.chdir("/repo")
def run(args):
    if args[:1] == ["--script"]:
        sys.argv = [args[1]]
        sys.path.insert(0, os.path.dirname(os.path.abspath(args[1])))
        try:
            runpy.run_path(args[1], run_name="__main__")
        except SystemExit as e:
            return int(e.code or 0)
        return 0
    import pytest
    return int(pytest.main(["-p", "no:cacheprovider", *args]))
run(list(pytest_args))
`);
process.exit(Number(code));

"""The package layout: every import of a tf_amgan module points down the layers (no circle)."""

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1] / "tf_amgan"

# Bottom to top; a module may import its own layer and the ones below, never one above.
LAYERS = [
    {"io_utils", "progress", "commandline"},
    {"data", "networks", "losses", "metrics"},
    {"classifiers"},
    {"training"},
    {"runs"},
    {"evaluation"},
    {"export"},
    {"train"},
    {"study"},
    {"evaluate"},  # command shims
]
LEVEL = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def _top(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "tf_amgan" and len(parts) > 1 else None


def _imports(path: pathlib.Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "tf_amgan":
                for alias in node.names:
                    yield node.lineno, f"tf_amgan.{alias.name}"
            else:
                yield node.lineno, node.module


def test_every_module_has_a_layer():
    tops = {p.stem if p.suffix else p.name for p in ROOT.iterdir() if not p.name.startswith("_")}
    tops = {t for t in tops if t != "py.typed"}
    assert tops <= set(LEVEL), f"modules without a layer in LAYERS: {sorted(tops - set(LEVEL))}"


def test_imports_point_down():
    upward = []
    for path in ROOT.rglob("*.py"):
        own = path.relative_to(ROOT).parts[0].removesuffix(".py")
        if own not in LEVEL:
            continue
        for line, module in _imports(path):
            top = _top(module)
            if top is not None and top in LEVEL and LEVEL[top] > LEVEL[own]:
                upward.append(f"{path.relative_to(ROOT.parent)}:{line} imports {module}")
    assert not upward, "imports pointing up the layers:\n" + "\n".join(upward)


def test_the_check_sees_an_upward_import(tmp_path):
    bad = tmp_path / "m.py"
    bad.write_text("from tf_amgan import evaluation\nimport tf_amgan.export as e\n")
    found = [m for _, m in _imports(bad)]
    assert found == ["tf_amgan.evaluation", "tf_amgan.export"]
    assert LEVEL[_top(found[0])] > LEVEL["training"]


def test_evaluation_names_match_their_modules():
    from tf_amgan import evaluation
    from tf_amgan.evaluation import external, periodic, reference, runner, sources

    modules = (runner, sources, reference, external, periodic)
    for module in modules:
        for name in module.__all__:
            assert getattr(evaluation, name) is getattr(module, name), name
    assert set(evaluation._NAMES) == {n for m in modules for n in m.__all__}


def test_command_modules_do_not_import_tensorflow():
    # Bad flags and paths must fail fast, before TensorFlow's start-up.
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import tf_amgan.evaluate, tf_amgan.evaluation.cli, tf_amgan.classifiers.cli\n"
        "import tf_amgan.study.cli, tf_amgan.train, tf_amgan.evaluation.flags\n"
        "assert 'tensorflow' not in sys.modules, [m for m in sys.modules if 'tensorflow' in m]\n"
    )
    env = {"PYTHONPATH": str(ROOT.parent), "PATH": "/usr/bin:/bin"}
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def test_ci_runs_the_readme_test_command():
    readme = (ROOT.parent / "README.md").read_text(encoding="utf-8")
    ci = (ROOT.parent / ".ci" / "run").read_text(encoding="utf-8")
    command = next(ln.strip() for ln in readme.splitlines() if "python -m pytest" in ln)
    assert command in ci.splitlines(), (command, ci)
    assert "--durations=15" in command

"""Every command behaves the same way: absl flags, --helpfull, --flagfile, one-line errors (exit 2)."""

import ast
import importlib
import os
import subprocess
import sys

import pytest

from tf_amgan.classifiers import cli as classifier_cli
from tf_amgan.evaluation import cli as evaluate_cli
from tf_amgan.study import cli as study_cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _export_main(argv):
    from tf_amgan import export

    return export.main(argv)


# name -> (main, a flag its help must list, flagfile lines, expected output of that flagfile)
COMMANDS = {
    "evaluate": (evaluate_cli.main, "--msssim_grouping", ["--generator=/nonexistent/run"],
                 "does not exist"),
    "export": (_export_main, "--standing_stats_batches",
               ["--run_dir=/nonexistent/run", "--export_dir=/nonexistent/exports"], "config.json"),
    "study": (study_cli.main, "--predefined_seeds", ["--study=p999"], "p999"),
    "classifier": (classifier_cli.main, "--growth_rate",
                   ["--dataset=nope", "--output_dir=/nonexistent/c"], "unknown --dataset"),
}  # fmt: skip


def _call(main, argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, [ln for ln in captured.err.splitlines() if ln.strip()]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_helpfull_lists_the_command_flags(name, capsys):
    main, flag, _, _ = COMMANDS[name]
    for help_flag in ("--helpfull", "--help"):
        code, out, err = _call(main, [help_flag], capsys)
        assert code == 0 and err == [], (name, help_flag, err)
        assert flag in out and "--flagfile" in out, (name, help_flag)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_flagfile_is_read(name, tmp_path, capsys):
    main, _, lines, expected = COMMANDS[name]
    path = tmp_path / "command.cfg"
    path.write_text("# a comment\n" + "\n".join(lines) + "\n")
    code, out, err = _call(main, [f"--flagfile={path}"], capsys)
    assert code == 2 and out == "" and len(err) == 1, (name, err)
    assert err[0].startswith("error: ") and expected in err[0], (name, err)


@pytest.mark.parametrize("name", sorted(COMMANDS))
@pytest.mark.parametrize("bad", ["--no_such_flag=1", "--seed=many", "stray_argument"])
def test_bad_flags_exit_2_with_one_line(name, bad, capsys):
    main, _, lines, _ = COMMANDS[name]
    if bad == "--seed=many" and name in ("export", "study"):
        bad = "--version=many" if name == "export" else "--seeds=many"
    code, out, err = _call(main, [*lines, bad], capsys)
    assert code == 2 and out == "" and len(err) == 1, (name, bad, err)
    assert err[0].startswith("error: "), (name, bad, err)


def test_missing_required_flag_is_one_line(capsys):
    code, out, err = _call(evaluate_cli.main, ["--metrics=is"], capsys)
    assert code == 2 and out == "" and len(err) == 1 and "--generator" in err[0], err


def test_console_scripts_resolve():
    tree = ast.parse(open(os.path.join(ROOT, "setup.py"), encoding="utf-8").read())
    scripts = next(
        ast.literal_eval(node.value)["console_scripts"]
        for node in ast.walk(tree)
        if isinstance(node, ast.keyword) and node.arg == "entry_points"
    )
    names = {s.split("=")[0] for s in scripts}
    assert names == {
        "tf-amgan-train",
        "tf-amgan-evaluate",
        "tf-amgan-export",
        "tf-amgan-study",
        "tf-amgan-classifier",
    }
    for script in scripts:
        module, func = script.split("=")[1].split(":")
        assert callable(getattr(importlib.import_module(module), func)), script


def test_train_command_help_flagfile_and_bad_flag(tmp_path):
    env = {**os.environ, "PYTHONPATH": ROOT, "CUDA_VISIBLE_DEVICES": ""}
    flagfile = tmp_path / "bad.cfg"
    flagfile.write_text("--train_steps=0\n")
    cases = {
        "helpfull": (["--helpfull"], 0),
        "flagfile": ([f"--flagfile={flagfile}", f"--output_dir={tmp_path / 'run'}"], 2),
        "bad flag": (["--no_such_flag"], 2),
    }
    procs = {
        name: subprocess.Popen([sys.executable, os.path.join(ROOT, "run_experiment.py"), *argv],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name, (argv, _) in cases.items()
    }  # fmt: skip
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == cases[name][1], (name, err)
        lines = [ln for ln in err.splitlines() if ln.strip()]
        if name == "helpfull":
            assert "--model" in out and "--flagfile" in out
        else:
            assert lines[-1].startswith("error: "), (name, err)
    assert not (tmp_path / "run").exists()

"""One exception hierarchy, mapped to a message and an exit code in one place (cli.common)."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import ozamonitor
from ozamonitor.cli.main import app
from ozamonitor.errors import ConfigurationError, InputError, OzamonitorError

runner = CliRunner()
SRC = Path(ozamonitor.__file__).parent

#: Packages whose exceptions must all derive from OzamonitorError.
PACKAGES = ("register", "synth", "causal", "cli")


def _modules(package: str) -> list[str]:
    pkg = importlib.import_module(f"ozamonitor.{package}")
    return [f"ozamonitor.{package}"] + [
        m.name for m in pkgutil.iter_modules(pkg.__path__, f"ozamonitor.{package}.")
    ]


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exception_class_derives_from_the_base(package):
    found = []
    for name in _modules(package):
        mod = importlib.import_module(name)
        for obj in vars(mod).values():
            if (inspect.isclass(obj) and issubclass(obj, Exception)
                    and not issubclass(obj, Warning) and obj.__module__ == name):
                found.append(obj)
                assert issubclass(obj, OzamonitorError), obj
    if package in ("register", "causal"):
        assert found


def test_old_bases_are_kept_for_callers():
    from ozamonitor.causal.did import DidInputError
    from ozamonitor.causal.impact import ImpactError
    from ozamonitor.causal.matching import MatchingError
    from ozamonitor.register.mapping import MappingError
    from ozamonitor.register.template import TemplateExistsError
    from ozamonitor.synth.params import SynthParamsError

    for cls in (DidInputError, ImpactError, MatchingError, MappingError):
        assert issubclass(cls, ValueError)
    assert issubclass(TemplateExistsError, FileExistsError)
    assert issubclass(SynthParamsError, TypeError)


@pytest.mark.parametrize(
    ("error", "code"),
    [(InputError("bad row", file="units.csv", row=3, field="age"), 1),
     (ConfigurationError("bad option"), 2)],
)
def test_library_errors_become_one_line_and_their_exit_code(tmp_path, monkeypatch, error, code):
    import ozamonitor.causal.impact as impact

    def boom(*args, **kwargs):
        raise error

    monkeypatch.setattr(impact, "impact_analysis", boom)
    res = runner.invoke(app, ["impact", "--register", str(tmp_path), "--out",
                             str(tmp_path / "out")])
    assert res.exit_code == code
    assert isinstance(res.exception, SystemExit)  # no traceback
    lines = [ln for ln in res.output.splitlines() if ln.startswith("error:")]
    assert lines == [f"error: {error}"]


def test_a_register_error_names_the_folder(tmp_path):
    res = runner.invoke(app, ["impact", "--register", str(tmp_path / "nope"), "--out",
                              str(tmp_path / "o")])
    assert res.exit_code == 2 and "not a register" in res.output
    assert not (tmp_path / "o").exists()


def test_synth_bad_scale_is_a_configuration_error(tmp_path):
    res = runner.invoke(app, ["synth", "--scale", "5", "--out", str(tmp_path / "r"), "-q"])
    assert res.exit_code == 2 and "scale must be in" in res.output
    assert not (tmp_path / "r").exists()


def test_no_assert_on_data_in_the_analysis_packages():
    """``assert`` vanishes under ``python -O``; checks of data raise errors instead.

    The few asserts left narrow types of internal values (a schema constant, a SQL
    result), never user data; the allow-list names them.
    """
    allowed = {("register/validate.py", "t.spell is not None"),
               ("register/info.py", "res is not None")}
    found = set()
    for package in PACKAGES:
        for path in (SRC / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Assert):
                    found.add((path.relative_to(SRC).as_posix(), ast.unparse(node.test)))
    assert found <= allowed, found - allowed

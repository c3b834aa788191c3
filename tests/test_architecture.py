"""The layers point one way: nothing below the handlers imports them.

Handlers call services and views; the scheduler and the delivery worker use services and views;
services and the database layer know neither the handlers nor the delivery machinery. Imports are
read from the source with `ast`, so an import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# (the code under these folders, the packages it must not import)
RULES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("scheduler", "bot/services", "bot/delivery", "bot/views", "db"), ("bot.handlers",)),
    (("bot/services", "db"), ("bot.delivery",)),
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module a file imports, anywhere in it, as (line, dotted name)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            # `from bot import handlers` names the package in the alias, not in the module.
            found.extend((node.lineno, f"{module}.{alias.name}") for alias in node.names)
    return found


def _is_under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def violations(folders: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    lines: dict[str, str] = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for lineno, module in imported_modules(path):
                if any(_is_under(module, package) for package in forbidden):
                    # One line per import statement: the module, not each name it brings.
                    lines.setdefault(f"{path.relative_to(ROOT)}:{lineno}", module)
    return [f"{where} imports {module}" for where, module in sorted(lines.items())]


@pytest.mark.parametrize(("folders", "forbidden"), RULES)
def test_no_import_points_upwards(folders: tuple[str, ...], forbidden: tuple[str, ...]) -> None:
    found = violations(folders, forbidden)
    assert found == [], "forbidden imports:\n" + "\n".join(found)


def test_services_reach_aiogram_through_one_door() -> None:
    """Services know no Telegram: gettext comes through bot/services/i18n.py and nothing else."""
    door = ROOT / "bot" / "services" / "i18n.py"
    found = [
        line
        for line in violations(("bot/services",), ("aiogram",))
        if not line.startswith(str(door.relative_to(ROOT)) + ":")
    ]
    assert found == [], "services importing aiogram:\n" + "\n".join(found)


def test_the_scheduler_process_loads_no_handler() -> None:
    """`python -m scheduler` sends pushes and edits live screens without any handler module."""
    code = (
        "import sys, scheduler.__main__, bot.views; bot.views.load_renderers(); "
        "print(sorted(m for m in sys.modules if m.startswith('bot.handlers')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_the_checker_sees_every_kind_of_import(tmp_path: Path, monkeypatch) -> None:
    """A forbidden arrow is caught at the top, inside a function, and in `from x import y`."""
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    code = tmp_path / "scheduler" / "jobs"
    code.mkdir(parents=True)
    (code / "a.py").write_text("import bot.handlers.journal\n")
    (code / "b.py").write_text("def f():\n    from bot.handlers.attendance import x\n")
    (code / "c.py").write_text("from bot import handlers\n")
    (code / "d.py").write_text("from bot.handlersx import y\nfrom bot.views import z\n")
    found = violations(("scheduler",), ("bot.handlers",))
    assert sorted({line.split(":")[0] for line in found}) == [
        "scheduler/jobs/a.py",
        "scheduler/jobs/b.py",
        "scheduler/jobs/c.py",
    ]


def test_renderer_modules_are_views() -> None:
    """The worker and the scheduler load renderers from a list of view modules, nothing else."""
    from bot.views import RENDERER_MODULES

    assert RENDERER_MODULES
    assert all(_is_under(name, "bot.views") for name in RENDERER_MODULES)
    handlers = ROOT / "bot" / "handlers"
    registering = [
        path.name for path in sorted(handlers.rglob("*.py")) if "@renderer(" in path.read_text()
    ]
    assert registering == [], "push renderers belong in bot/views/"

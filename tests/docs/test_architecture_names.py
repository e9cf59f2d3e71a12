"""docs/architecture.md names the code as it is: every file it mentions exists in each service it
says, and every step of "the path of one write" names a function or class its file defines."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from scripts.docs_check import ROOT

PAGE = ROOT / "docs" / "architecture.md"
SERVICES = ("registry", "milestone", "notification")
CODE = re.compile(r"`([^`]+)`")
# A file of a service's package (`rules/jobs.py`, `consumers.py`), or of the repository.
SOURCE = re.compile(r"^(?:[\w.]+/)*[\w]+\.py$")


def section(title: str) -> str:
    text = PAGE.read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def table_rows(text: str) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        if line.startswith("|") and not set(line) <= set("|-: "):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows[1:]  # the header


def defined_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def package(service: str) -> Path:
    return ROOT / "services" / service / "src" / "sanpi" / service


def test_each_step_of_the_write_path_names_what_its_file_defines() -> None:
    steps = [row for row in table_rows(section("The path of one write")) if len(row) == 3]
    assert len(steps) >= 10
    for step, file_cell, name_cell in steps:
        [file] = CODE.findall(file_cell)
        [name] = CODE.findall(name_cell)
        path = ROOT / file
        assert path.is_file(), f"{step}: {file} does not exist"
        assert name in defined_names(path), f"{step}: {file} defines no {name}"


def test_the_files_of_where_to_look_exist_in_each_service_named() -> None:
    rows = table_rows(section("The layout of a service"))
    where = [row for row in rows if len(row) == 4 and row[0].startswith("where")]
    assert len(where) >= 5
    for question, *answers in where:
        for service, answer in zip(SERVICES, answers, strict=True):
            for name in CODE.findall(answer):
                if not SOURCE.match(name):
                    continue
                assert (package(service) / name).is_file(), f"{question}: {service} has no {name}"


def test_the_outline_holds_in_every_service() -> None:
    rows = table_rows(section("The layout of a service"))
    outline = [CODE.findall(row[0])[0] for row in rows if len(row) == 2 and row[0].startswith("`")]
    top = [name for name in outline if SOURCE.match(name)]
    assert {"app.py", "consumers.py", "jobs.py", "settings.py"} <= set(top)
    for service in SERVICES:
        for name in top:
            assert (package(service) / name).is_file(), f"{service} has no {name}"
        consumers = defined_names(package(service) / "consumers.py")
        assert {"CONSUMED_TOPICS", "build_handlers"} <= consumers, service
        assert "JOBS" in defined_names(package(service) / "jobs.py"), service


def test_the_unit_of_work_calls_it_names_exist() -> None:
    unit = ROOT / "libs" / "kit" / "src" / "sanpi" / "kit" / "unit_of_work.py"
    methods = {
        node.name
        for node in ast.walk(ast.parse(unit.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    } | {"session", "catching_up"}
    for row in table_rows(section("The unit of work")):
        for call in CODE.findall(row[0]):
            name = call.removeprefix("uow.").split("(")[0]
            assert name in methods, f"UnitOfWork has no {name}"


# The milestone areas the rules judge (and bulletins, which reads the rules' findings).
JUDGED_AREAS = ("lifecycle", "milestones", "progress", "evidence", "timeline", "bulletins")


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_no_module_of_the_rules_imports_an_area_it_judges() -> None:
    # Before: rules/service.py imported the lifecycle, milestones, progress and evidence
    # repositories and the timeline, rules/evaluation.py the lifecycle's state machine and
    # rules/repository.py its model. The rules' routes reach the areas through flows.Context,
    # as every route does; nothing else of rules imports flows or judged.py.
    rules = package("milestone") / "rules"
    entry_points = {"endpoints.py"}
    for path in sorted(rules.glob("*.py")):
        imported = imported_modules(path)
        upward = {
            module
            for module in imported
            for area in JUDGED_AREAS
            if module == f"sanpi.milestone.{area}" or module.startswith(f"sanpi.milestone.{area}.")
        }
        assert not upward, f"rules/{path.name} imports {sorted(upward)}"
        service_level = {
            m for m in imported if m in ("sanpi.milestone.flows", "sanpi.milestone.judged")
        }
        if path.name not in entry_points:
            assert not service_level, f"rules/{path.name} imports {sorted(service_level)}"

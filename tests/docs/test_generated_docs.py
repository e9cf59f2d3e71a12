"""The generated parts of the docs are current, complete, and name what the code really reads."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr

from sanpi.events import EVENT_TYPES, parse_data
from sanpi.kit.sealing import new_key
from sanpi.kit.settings import SHARED_FIELDS, ServiceSettings
from scripts import docs_gen

# Nothing here touches a service database: the SQLite pass of make test covers it.
pytestmark = pytest.mark.db_independent

ROOT = Path(__file__).resolve().parents[2]


def test_committed_reference_docs_are_what_the_code_generates() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "docs_gen.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_a_stale_page_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = tmp_path / "operations.md"
    text = docs_gen.OPERATIONS_MD.read_text().replace("SANPI_REGISTRY_PARKS", "SANPI_PARKS")
    stale.write_text(text)
    monkeypatch.setattr(docs_gen, "OPERATIONS_MD", stale)
    assert docs_gen.stale_files() == [str(stale)]


def test_every_event_type_is_in_the_catalogue_with_a_valid_example() -> None:
    catalogue = (ROOT / "docs" / "events.md").read_text()
    for type_, model in EVENT_TYPES.items():
        assert f"### `{type_}`" in catalogue
        event = docs_gen.example_event(type_)
        assert isinstance(parse_data(event), model)
        schema = json.loads((docs_gen.SCHEMAS / f"{type_}.json").read_text())
        assert schema == model.model_json_schema()


def test_an_event_type_without_an_example_stops_the_generator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(docs_gen.EXAMPLES, "sanpi.target.set.v1")
    with pytest.raises(ValueError, match="no example"):
        docs_gen.events_catalogue()


def documented_variables() -> tuple[list[str], list[str]]:
    """The variable names of the configuration table: the per-service ones (<SERVICE> spelled
    out) and the shared SANPI_<NAME> ones."""
    table = docs_gen.OPERATIONS_MD.read_text().split("## Configuration reference", 1)[1]
    names = set(re.findall(r"`(SANPI_[A-Z_<>0-9]+)`", table))
    services = tuple(f"SANPI_{s.upper()}_" for s in docs_gen.DEPLOYABLES)
    expanded, shared = set(), set()
    for name in names - {"SANPI_<SERVICE>_<NAME>", "SANPI_<NAME>"}:
        if "<SERVICE>" in name:
            expanded |= {name.replace("<SERVICE>", s.upper()) for s in docs_gen.DEPLOYABLES}
        elif name.startswith(services):
            expanded.add(name)
        elif "<" not in name:
            shared.add(name)
    return sorted(expanded), sorted(shared)


def changed(value: Any) -> tuple[str, Any]:
    """An environment value different from `value`, and what the setting should then hold."""
    if isinstance(value, bool):
        return str(not value).lower(), not value
    if isinstance(value, int):
        return str(value + 1), value + 1
    if isinstance(value, float):
        return str(value + 1.5), value + 1.5
    if isinstance(value, list) and value and isinstance(value[0], SecretStr):
        key = new_key()  # secret_keys: keys are checked
        return json.dumps([key]), [SecretStr(key)]
    if value == ["09:00-12:00", "13:00-17:00"]:  # office hours: spans stay in order
        other = ["08:30-12:00", "14:00-17:30"]
        return json.dumps(other), other
    if isinstance(value, list):
        other = list(reversed(value)) if len(value) > 1 else ["x"]  # lengths may be fixed
        return json.dumps(other, ensure_ascii=False), other
    if isinstance(value, SecretStr):
        return "another-secret-of-enough-length", SecretStr("another-secret-of-enough-length")
    if isinstance(value, Path):
        return "/srv/sanpi", Path("/srv/sanpi")
    if value == "development":
        return "test", "test"
    if value == "json":  # the log format
        return "text", "text"
    if value in ("FULL", "NORMAL"):  # sqlite_synchronous
        flipped = "NORMAL" if value == "FULL" else "FULL"
        return flipped, flipped
    if value == "auto":  # the portal's cookie_secure
        return "always", "always"
    if value == "calendar":  # the notification's working_days
        return "all", "all"
    return "changed.example:1", "changed.example:1"


def resolve(variable: str) -> tuple[type[ServiceSettings], list[str]]:
    """SANPI_MILESTONE_RULES__R04__RED → (MilestoneSettings, ["rules", "r04", "red"])."""
    for service, (cls, _) in docs_gen.DEPLOYABLES.items():
        prefix = f"SANPI_{service.upper()}_"
        if variable.startswith(prefix):
            return cls, variable.removeprefix(prefix).lower().split("__")
    raise AssertionError(f"{variable} names no service")


def read(settings: BaseModel, path: list[str]) -> Any:
    value: Any = settings
    for part in path:
        value = getattr(value, part)
    return value


def test_the_configuration_table_lists_every_setting_and_each_variable_works(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    variables, shared = documented_variables()
    assert shared == sorted(f"SANPI_{name.upper()}" for name in SHARED_FIELDS)
    for service, (cls, _) in docs_gen.DEPLOYABLES.items():
        for name in cls.model_fields:
            assert f"SANPI_{service.upper()}_{name.upper()}" in variables or name == "rules"
    for variable in variables:
        cls, path = resolve(variable)
        if path == ["rules"]:
            continue  # the thresholds are the nested variables below it
        default = read(cls(), path)
        raw, expected = changed(default)
        with monkeypatch.context() as env:
            env.setenv(variable, raw)
            assert read(cls(), path) == expected, variable
    for name in SHARED_FIELDS:
        raw, expected = changed(getattr(ServiceSettings(), name))
        with monkeypatch.context() as env:
            env.setenv(f"SANPI_{name.upper()}", raw)
            for cls, _ in docs_gen.DEPLOYABLES.values():
                assert getattr(cls(), name) == expected, f"SANPI_{name.upper()} for {cls.__name__}"

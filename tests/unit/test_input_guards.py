"""Input the services used to answer 500 or leave undocumented (found by the schemathesis run in
test_hostile_input.py), each pinned: refused as 422 problem+json naming the field."""

from __future__ import annotations

from pathlib import Path

from sanpi.milestone.app import create_app as milestone_app
from sanpi.milestone.settings import MilestoneSettings
from sanpi.notification.app import create_app as notification_app
from sanpi.registry.app import create_app as registry_app
from sanpi.registry.settings import RegistrySettings
from tests.support.notification import harness_settings


def test_every_answer_is_documented(tmp_path: Path) -> None:
    """Errors are problem+json on every operation; the 200s of a dry-run import and of a target
    that already existed are declared next to their 201s."""
    apps = {
        "registry": registry_app(RegistrySettings(data_dir=tmp_path, kafka_enabled=False)),
        "milestone": milestone_app(MilestoneSettings(data_dir=tmp_path, kafka_enabled=False)),
        "notification": notification_app(harness_settings(tmp_path)),
    }
    for service, app in apps.items():
        for path, methods in app.openapi()["paths"].items():
            for method, operation in methods.items():
                for status in ("4XX", "5XX"):
                    content = operation["responses"][status]["content"]
                    assert list(content) == ["application/problem+json"], (service, method, path)
    paths = apps["registry"].openapi()["paths"]
    assert {"200", "201"} <= set(paths["/v1/projects/import"]["post"]["responses"])
    assert {"200", "201"} <= set(paths["/v1/targets"]["post"]["responses"])

"""sanpi-admin rebuild's answers to bad input: Chinese first, naming what is wrong and what is
allowed, exit 2, before anything is read or written."""

from __future__ import annotations

from typer.testing import CliRunner

from sanpi.admin.cli import app


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["rebuild", *args])
    return result.exit_code, result.output


def test_an_unknown_service_is_named_with_the_services_there_are() -> None:
    code, output = invoke("portal")
    assert code == 2
    assert "未知的服务 portal" in output
    assert "registry, milestone, notification" in output


def test_an_unknown_projection_is_named_with_the_services_projections() -> None:
    code, output = invoke("milestone", "--projection", "tracked", "--projection", "alerts")
    assert code == 2
    assert "milestone 没有投影 alerts" in output
    assert "tracked, targets" in output


def test_a_topic_mapping_without_its_equals_sign_is_refused() -> None:
    code, output = invoke("registry", "--topic", "sanpi.milestones")
    assert code == 2
    assert "TOPIC=OTHER" in output


def test_the_help_says_to_stop_every_replica_and_lists_the_projections() -> None:
    code, output = invoke("--help")
    assert code == 0
    assert "stop EVERY replica" in " ".join(output.split())
    for name in ("stage", "funds", "tracked", "targets", "project_view"):
        assert f"{name} =" in output

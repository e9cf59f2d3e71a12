"""The SDK's report_batch / upload_evidence and the CLI's `sanpi progress batch` and `sanpi
evidence upload`, against the milestone service under a real uvicorn (no broker)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sanpi.client.cli import app as cli
from sanpi.client.sdk import ApiError, SanpiClient, ServiceUrls
from sanpi.events import build_record
from sanpi.kit import FixedClock, Role
from sanpi.milestone.app import create_app
from sanpi.milestone.settings import MilestoneSettings
from tests.support.apps import token
from tests.support.images import jpeg
from tests.support.milestone import at, registration
from tests.support.notification import as_consumed
from tests.support.threaded import ThreadedServer, serve_in_thread

PROJECTS = ["p1", "p2", "p3", "fy1"]


@pytest.fixture
def milestone(tmp_path: Path, database_url: str) -> Iterator[ThreadedServer]:
    settings = MilestoneSettings(
        data_dir=tmp_path, database_url=database_url, kafka_enabled=False, evaluation_interval_s=0
    )
    with serve_in_thread(create_app(settings, FixedClock(at(dt.date(2023, 6, 15))))) as server:
        consumer = server.runtime.consumer
        assert consumer is not None
        for pid in PROJECTS:
            park = "枫杨" if pid.startswith("fy") else "梧桐"
            _event, record = build_record(registration(pid, park=park), source="/sanpi/registry")
            server.run(consumer.process(as_consumed(record)))
        yield server


def sdk(
    server: ThreadedServer, role: Role = Role.ADMIN, parks: tuple[str, ...] = ()
) -> SanpiClient:
    return SanpiClient(token(role, "op-1", parks), ServiceUrls(milestone=server.url))


def report(pid: str, cum: Any = 20_000, key: str = "2023-06-X2") -> dict[str, Any]:
    return {
        "project_id": pid,
        "period_key": key,
        "completed_investment_cum": cum,
        "completed_investment_ytd": 5_000,
    }


def test_the_sdk_reports_a_batch_and_uploads_a_photo(
    milestone: ThreadedServer, tmp_path: Path
) -> None:
    with sdk(milestone, Role.OPERATOR, ("梧桐",)) as client:
        answer = client.milestone.report_batch(
            [report("p1"), report("p2", cum="约3亿"), report("fy1")]
        )
        assert (answer["accepted"], answer["refused"]) == (1, 2)
        assert [r["status"] for r in answer["results"]] == ["accepted", "refused", "refused"]
        assert answer["results"][1]["errors"][0]["message"].startswith("「累计完成投资」")
        english = client.milestone.report_batch([report("fy1")], language="en")
        assert english["results"][0]["errors"][0]["message"].startswith("project: role operator")
        with pytest.raises(ValueError, match="at most 500"):
            client.milestone.report_batch([report("p1")] * 501)

        photo = tmp_path / "开工现场.jpg"
        photo.write_bytes(jpeg("2023:03:01 09:30:00"))
        uploaded = client.milestone.upload_evidence("p1", photo)
        assert (uploaded["filename"], uploaded["captured_on"]) == ("开工现场.jpg", "2023-03-01")
        again = client.milestone.upload_evidence("p1", photo.read_bytes(), filename="again.jpg")
        assert again["id"] == uploaded["id"]
        assert client.milestone.evidence_bytes(uploaded["id"]) == photo.read_bytes()
        listed = client.milestone.evidence("p1", limit=10)
        assert [i["id"] for i in listed["items"]] == [uploaded["id"]]
        with pytest.raises(ApiError) as refused:
            client.milestone.upload_evidence("p1", b"not a photo", filename="x.jpg")
        assert refused.value.status == 422
        assert refused.value.problem["errors"][0]["field"] == "file"
        with pytest.raises(ApiError) as other_park:
            client.milestone.upload_evidence("fy1", photo)
        assert other_park.value.status == 403


def run(server: ThreadedServer, *args: str, role: Role = Role.ADMIN) -> Any:
    env = {"SANPI_MILESTONE_URL": server.url, "SANPI_TOKEN": token(role, "op-1", ("梧桐",))}
    return CliRunner().invoke(cli, list(args), env=env)


def test_the_cli_batch_prints_each_row_and_fails_when_one_is_refused(
    milestone: ThreadedServer, tmp_path: Path
) -> None:
    sheet = tmp_path / "旬报.csv"
    # As Excel on a Chinese Windows saves it: GBK, Chinese headers with units.
    sheet.write_bytes(
        (
            "项目,填报期,累计完成投资（万元）,本年完成投资（万元）,形象进度(%),存在问题,更正\n"
            "p1,2023-06-X2,20000,5000,35,,否\n"
            "p2,2023-06-X2,约3亿,5000,,用地手续未批,\n"
            "\n"
            "p3,2023-05-X3,15000,5000,,,\n"
        ).encode("gbk")
    )
    result = run(milestone, "progress", "batch", str(sheet), role=Role.OPERATOR)
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert any("2 " in line and "p1" in line and "已接收" in line for line in lines), result.output
    refused = next(line for line in lines if "p2" in line)
    assert "被拒绝" in refused
    assert '第 3 行：「累计完成投资」：应为整数万元，收到 "约3亿"' in result.output
    assert any("5 " in line and "p3" in line and "迟报" in line for line in lines), result.output
    assert "接收 2 条（其中迟报 1 条），重复 0 条，拒绝 1 条" in result.output

    rows = tmp_path / "rows.json"
    # p2 corrected by hand; p3 sent again as the sheet had it (a resent row: a duplicate).
    rows.write_text(json.dumps({"reports": [report("p2"), report("p3", 15_000, "2023-05-X3")]}))
    again = run(milestone, "progress", "batch", str(rows), "--lang", "en")
    assert again.exit_code == 0, again.output
    assert "accepted 1 (0 late), duplicate 1, refused 0" in again.output
    as_json = run(milestone, "progress", "batch", str(rows), "--json")
    assert [r["status"] for r in json.loads(as_json.stdout)] == ["duplicate", "duplicate"]

    bad_header = tmp_path / "bad.csv"
    bad_header.write_text("项目,金额\np1,1\n", encoding="utf-8")
    unknown = run(milestone, "progress", "batch", str(bad_header))
    assert unknown.exit_code == 2
    assert "unknown columns: 金额" in " ".join(unknown.output.split())


def test_the_cli_uploads_a_photo(milestone: ThreadedServer, tmp_path: Path) -> None:
    photo = tmp_path / "site.jpg"
    photo.write_bytes(jpeg("2023:03:01 09:30:00"))
    result = run(milestone, "evidence", "upload", "p1", str(photo), "--json")
    assert result.exit_code == 0, result.output
    uploaded = json.loads(result.stdout)
    assert uploaded["uri"].startswith("/v1/evidence/")
    listed = run(milestone, "evidence", "list", "p1")
    assert listed.exit_code == 0, listed.output
    assert "site.jpg" in listed.output
    assert "2023-03-01" in listed.output
    text = tmp_path / "notes.jpg"
    text.write_text("not a photo")
    refused = run(milestone, "evidence", "upload", "p1", str(text))
    assert refused.exit_code == 1
    assert "不是可识别的图片" in refused.output


def test_the_sdk_and_the_cli_send_milestones_with_the_reports(
    milestone: ThreadedServer, tmp_path: Path
) -> None:
    started = {
        "project_id": "p1",
        "kind": "STARTED",
        "date": "2023-06-01",
        "evidence": [{"uri": "https://files.example/site.jpg", "taken_at": "2023-06-01"}],
    }
    with sdk(milestone) as client:
        answer = client.milestone.report_batch([report("p1")], milestones=[started])
        assert [r["status"] for r in answer["results"]] == ["accepted"]
        [reached] = answer["milestones"]
        assert (reached["status"], reached["milestone"]["stage"]) == (
            "accepted",
            "UNDER_CONSTRUCTION",
        )
        with pytest.raises(ValueError, match="at most 500 rows"):
            client.milestone.report_batch([report("p1")] * 300, milestones=[started] * 201)
    rows = tmp_path / "xun.json"
    topped = {"project_id": "p2", "kind": "TOPPED_OUT", "date": "2023-06-10"}
    statistics = {"project_id": "p3", "kind": "IN_STATISTICS", "date": "2023-06-10"}
    rows.write_text(
        json.dumps({"reports": [report("p2")], "milestones": [started, topped, statistics]}),
        encoding="utf-8",
    )
    result = run(milestone, "progress", "batch", str(rows))
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert any("p1" in line and "STARTED" in line and "重复" in line for line in lines), lines
    assert any("p2" in line and "TOPPED_OUT" in line and "已接收" in line for line in lines), lines
    assert (
        "里程碑第 3 条：「里程碑」：入库纳统只能在开工后登记，项目尚未开工（SIGNED）"
        in result.output
    )
    assert "接收 2 条（其中迟报 0 条），重复 1 条，拒绝 1 条" in result.output
    as_json = run(milestone, "progress", "batch", str(rows), "--json")
    shown = json.loads(as_json.stdout)
    assert [r["status"] for r in shown["results"]] == ["duplicate"]
    assert [m["status"] for m in shown["milestones"]] == ["duplicate", "duplicate", "refused"]

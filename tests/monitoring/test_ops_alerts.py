"""Ops alerts reach someone: the broker stops, a service's outbox fills, Prometheus (Debian's,
with the project's rules) fires SanpiOutboxBacklogOld, Alertmanager (Debian's, with the project's
config) posts it to a webhook receiver, and posts it resolved once the broker is back. Also: every
alert carries its runbooks, and the 企业微信 example delivers to a receiver that checks the vendor's
documented API."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from scripts import stack
from tests.conftest import Postgres, free_port, running_stack, start_broker
from tests.support.sink import WebhookSink
from tests.support.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "rules"
ALERTMANAGER = ROOT / "deploy" / "alertmanager"
# Seconds instead of minutes: the rules' `for:` and Alertmanager's grouping waits. The rules'
# thresholds stay as they are (an outbox row older than 60 s).
FAST_FOR = "2s"
FAST_ROUTE = {"group_wait": "1s", "group_interval": "2s", "repeat_interval": "1h"}

# Nothing here depends on the database kind: the SQLite pass of make test covers it.
pytestmark = pytest.mark.db_independent


def alert_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load((RULES / "alerts.yml").read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def github_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives a document's headings (lower case, punctuation dropped)."""
    anchors = set()
    for line in markdown.splitlines():
        heading = re.match(r"#{1,6} (.+)", line)
        if heading:
            text = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower())
            anchors.add(text.replace(" ", "-"))
    return anchors


@pytest.mark.parametrize("annotation", ["runbook_url", "runbook_url_zh"])
def test_every_alert_has_a_runbook_section_of_its_own(annotation: str) -> None:
    for rule in alert_rules():
        url = rule["annotations"][annotation]
        path, _, anchor = url.partition("#")
        assert anchor == rule["alert"].lower(), url
        assert anchor in github_anchors((ROOT / path).read_text()), f"{path} has no #{anchor}"
        assert rule["annotations"]["summary_zh"], rule["alert"]


def amtool(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("amtool")
    assert binary, "amtool missing: `make alertmanager` installs Debian's prometheus-alertmanager"
    return subprocess.run([binary, *args], capture_output=True, text=True, check=False)


def test_the_alertmanager_configs_pass_amtool(tmp_path: Path) -> None:
    for config in [ALERTMANAGER / "alertmanager.yml", *sorted(ALERTMANAGER.glob("examples/*.yml"))]:
        checked = amtool("check-config", str(config))
        assert checked.returncode == 0, checked.stdout + checked.stderr
    # What make up and the tests run: the same file with another receiver and faster grouping.
    text = stack.render_alertmanager_config(webhook_url="http://127.0.0.1:1/x", timing=FAST_ROUTE)
    assert "url: http://127.0.0.1:1/x" in text
    assert "  group_wait: 1s" in text
    (tmp_path / "rendered.yml").write_text(text)
    checked = amtool("check-config", str(tmp_path / "rendered.yml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    with pytest.raises(ValueError, match="no route setting"):
        stack.render_alertmanager_config(timing={"group_by": "x"})


def fast_rules(directory: Path) -> Path:
    """deploy/prometheus/rules with every alert's `for:` shortened; thresholds unchanged."""
    directory.mkdir(parents=True, exist_ok=True)
    for path in RULES.glob("*.yml"):
        document = yaml.safe_load(path.read_text())
        for group in document["groups"]:
            for rule in group["rules"]:
                if "for" in rule:
                    rule["for"] = FAST_FOR
        (directory / path.name).write_text(yaml.safe_dump(document, allow_unicode=True))
    return directory


@dataclass
class Alerting:
    """A Prometheus with the project's rules and an Alertmanager with its config, posting to `sink`."""

    prometheus: str
    alertmanager: str
    sink: WebhookSink
    directory: Path

    def received(self, alertname: str, status: str) -> list[dict[str, Any]]:
        """The alerts of that name and status in what the receiver got (Alertmanager's JSON)."""
        messages = [json.loads(r.body) for r in self.sink.accepted()]
        return [
            alert
            for message in messages
            for alert in message["alerts"]
            if alert["labels"]["alertname"] == alertname and alert["status"] == status
        ]


@contextmanager
def alerting(directory: Path, targets: dict[str, str], sink: WebhookSink) -> Iterator[Alerting]:
    am_port, prom_port = free_port(), free_port()
    config = stack.render_alertmanager_config(webhook_url=sink.url, timing=FAST_ROUTE)
    assert stack.start_alertmanager(config, port=am_port, run_dir=directory) is not None, (
        "prometheus-alertmanager missing: `make alertmanager` installs Debian's package"
    )
    try:
        stack.wait_http(f"http://127.0.0.1:{am_port}/-/ready")
        prometheus_config = stack.render_prometheus_config(
            targets,
            interval="1s",
            alertmanager=f"127.0.0.1:{am_port}",
            rules_dir=fast_rules(directory / "rules"),
        )
        assert stack.start_prometheus(prometheus_config, port=prom_port, run_dir=directory)
        try:
            stack.wait_http(f"http://127.0.0.1:{prom_port}/-/ready")
            yield Alerting(
                f"http://127.0.0.1:{prom_port}", f"http://127.0.0.1:{am_port}", sink, directory
            )
        finally:
            stack.stop_pidfile(directory / "pids" / "prometheus.pid", stack.PROMETHEUS_MARKER)
    finally:
        stack.stop_pidfile(directory / "pids" / "alertmanager.pid", stack.ALERTMANAGER_MARKER)


@pytest.mark.e2e
@pytest.mark.timeout(420)
async def test_a_stopped_broker_reaches_the_receiver_as_an_outbox_alert_and_then_its_resolution(
    run_dir: Path, postgres: Postgres | None
) -> None:
    directory = run_dir / "ops-alerts"
    broker = start_broker(directory / "kafka")
    sink = WebhookSink().start()
    try:
        with running_stack(
            broker.bootstrap, directory, postgres, database_prefix="opsalerts"
        ) as services:
            targets = {name: url.removeprefix("http://") for name, url in services.urls.items()}
            with alerting(directory, targets, sink) as ops:
                broker.stop()
                # Written while Kafka is away: the event waits in the registry's outbox.
                async with httpx.AsyncClient(timeout=10) as client:
                    created = await client.post(
                        f"{services.urls['registry']}/v1/projects",
                        json={
                            "name": "郑州比亚迪新能源汽车项目",
                            "park": "梧桐",
                            "total_investment": 100_000,
                        },
                        headers=services.headers(),
                        timeout=10,
                    )
                assert created.status_code == 201, created.text
                # The rule's threshold: the oldest row 60 s old; then `for:`, then grouping.
                (firing,) = await eventually(
                    lambda: ops.received("SanpiOutboxBacklogOld", "firing"),
                    timeout=150,
                    interval=1,
                    what="SanpiOutboxBacklogOld at the receiver",
                )
                assert firing["labels"]["job"] == "registry"
                assert firing["labels"]["severity"] == "warning"
                assert firing["annotations"]["runbook_url"] == (
                    "docs/operations.md#sanpioutboxbacklogold"
                )
                assert (
                    firing["annotations"]["summary_zh"] == "registry 发件箱有超过一分钟未发布的事件"
                )
                message = json.loads(sink.accepted()[0].body)
                assert message["receiver"] == "ops-webhook"
                assert message["externalURL"] == ops.alertmanager

                broker.start()
                await eventually(
                    lambda: ops.received("SanpiOutboxBacklogOld", "resolved"),
                    timeout=120,
                    interval=1,
                    what="the resolution at the receiver",
                )
    finally:
        sink.stop()
        broker.stop()


@dataclass
class WeComApi:
    """A 企业微信 server API on 127.0.0.1 as its documentation describes it: `gettoken` with
    corpid and corpsecret answers an access_token; `message/send?access_token=` takes a JSON
    message with agentid, touser/toparty/totag and msgtype text or markdown."""

    corp_id: str
    secret: str
    token: str = "tok-sanpi-test"
    messages: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                if url.path != "/cgi-bin/gettoken":
                    api.refused.append(f"GET {url.path}")
                    self.answer({"errcode": 404, "errmsg": "no such api"})
                elif query != {"corpid": api.corp_id, "corpsecret": api.secret}:
                    api.refused.append(f"gettoken {query}")
                    self.answer({"errcode": 40001, "errmsg": "invalid credential"})
                else:
                    self.answer(
                        {
                            "errcode": 0,
                            "errmsg": "ok",
                            "access_token": api.token,
                            "expires_in": 7200,
                        }
                    )

            def do_POST(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                query = dict(urllib.parse.parse_qsl(url.query))
                problem = None
                if url.path != "/cgi-bin/message/send" or query.get("access_token") != api.token:
                    problem = f"POST {self.path}"
                elif not body.get("agentid") or not (
                    body.get("touser") or body.get("toparty") or body.get("totag")
                ):
                    problem = f"no agentid or recipient: {body}"
                elif (
                    body.get("msgtype") not in ("text", "markdown")
                    or not body[body["msgtype"]]["content"]
                ):
                    problem = f"bad msgtype/content: {body}"
                if problem:
                    api.refused.append(problem)
                    self.answer({"errcode": 40008, "errmsg": "invalid message"})
                    return
                api.messages.append(body)
                self.answer({"errcode": 0, "errmsg": "ok"})

            def log_message(self, *_args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/cgi-bin/"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.mark.timeout(120)
async def test_the_wecom_example_sends_a_chinese_markdown_message_with_the_runbook(
    run_dir: Path,
) -> None:
    """examples/wechat.yml, with only the API URL and the credentials filled in, against an alert
    posted to Alertmanager's API as Prometheus posts it."""
    example = yaml.safe_load((ALERTMANAGER / "examples" / "wechat.yml").read_text())
    api = WeComApi(corp_id="ww_sanpi_test", secret="s3cret")
    directory = run_dir / "wecom"
    try:
        example["global"].update(
            wechat_api_url=api.url, wechat_api_corp_id=api.corp_id, wechat_api_secret=api.secret
        )
        example["route"].update(FAST_ROUTE)
        port = free_port()
        config = yaml.safe_dump(example, allow_unicode=True)
        assert stack.start_alertmanager(config, port=port, run_dir=directory) is not None
        try:
            stack.wait_http(f"http://127.0.0.1:{port}/-/ready")
            rule = next(r for r in alert_rules() if r["alert"] == "SanpiOutboxBacklogOld")
            annotations = {
                k: v.replace("{{ $labels.job }}", "registry")
                for k, v in rule["annotations"].items()
            }
            async with httpx.AsyncClient(timeout=10) as client:
                posted = await client.post(
                    f"http://127.0.0.1:{port}/api/v2/alerts",
                    json=[
                        {
                            "labels": {
                                "alertname": rule["alert"],
                                "job": "registry",
                                **rule["labels"],
                            },
                            "annotations": annotations,
                        }
                    ],
                    timeout=10,
                )
            assert posted.status_code == 200, posted.text
            (message,) = await eventually(
                lambda: api.messages, timeout=30, interval=0.2, what="a 企业微信 message"
            )
        finally:
            stack.stop_pidfile(directory / "pids" / "alertmanager.pid", stack.ALERTMANAGER_MARKER)
    finally:
        api.stop()
    assert api.refused == []
    assert message["msgtype"] == "markdown"
    assert message["agentid"] == "1000002"
    assert message["toparty"] == "1"
    content = message["markdown"]["content"]
    assert "【运维告警】registry 发件箱有超过一分钟未发布的事件" in content
    assert "级别：警告（SanpiOutboxBacklogOld）" in content
    assert "处理手册：docs/zh/operations.md#sanpioutboxbacklogold" in content

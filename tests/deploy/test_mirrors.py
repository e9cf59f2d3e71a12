"""Installing on an intranet: the make targets and scripts reach mirrors named by environment
variables (Maven through deploy/kafka/kafka.sh, apt through APT_OPTIONS), checked without a
network: a stand-in `mvn` records what it was asked."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

# Nothing here touches a service database: the SQLite pass of make test covers it.
pytestmark = pytest.mark.db_independent

ROOT = Path(__file__).resolve().parents[2]
MIRROR = "https://nexus.example.gov.cn/repository/maven-public/"

# Records its arguments and the settings file it was given, then writes one jar where Maven
# would have copied the dependencies.
FAKE_MVN = """#!/usr/bin/env bash
printf '%s\\n' "$@" > "$RECORD/args"
for ((i = 1; i <= $#; i++)); do
  if [[ "${!i}" == --settings ]]; then j=$((i + 1)); cp "${!j}" "$RECORD/settings.xml"; fi
  case "${!i}" in -DoutputDirectory=*) out="${!i#-DoutputDirectory=}";; esac
done
mkdir -p "$out" && touch "$out/kafka-clients-0.jar"
"""


def fetch(tmp_path: Path, **variables: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "mvn").write_text(FAKE_MVN)
    (bin_dir / "mvn").chmod(0o755)
    record = tmp_path / "record"
    record.mkdir(exist_ok=True)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MAVEN_")},
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "RECORD": str(record),
        "KAFKA_LIBS": str(tmp_path / "libs"),
        "KAFKA_DIR": str(tmp_path / "kafka"),
        **variables,
    }
    result = subprocess.run(
        [str(ROOT / "deploy/kafka/kafka.sh"), "fetch"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return result, record


def test_maven_repo_makes_every_download_go_to_the_mirror(tmp_path: Path) -> None:
    result, record = fetch(tmp_path, MAVEN_REPO=MIRROR)
    assert result.returncode == 0, result.stderr
    assert f"from {MIRROR}" in result.stderr
    settings = (record / "settings.xml").read_text()
    assert "<mirrorOf>*</mirrorOf>" in settings
    assert f"<url>{MIRROR}</url>" in settings
    assert "--settings" in (record / "args").read_text().split()
    assert (tmp_path / "libs" / "kafka-clients-0.jar").exists()


def test_maven_settings_of_ones_own_are_used_as_they_are(tmp_path: Path) -> None:
    own = tmp_path / "settings.xml"
    own.write_text("<settings><proxies/></settings>")
    result, record = fetch(tmp_path, MAVEN_SETTINGS=str(own))
    assert result.returncode == 0, result.stderr
    assert (record / "settings.xml").read_text() == own.read_text()


def test_without_a_mirror_maven_central_is_asked(tmp_path: Path) -> None:
    result, record = fetch(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "from Maven Central" in result.stderr
    assert "--settings" not in (record / "args").read_text().split()


def test_apt_options_reach_every_apt_get(tmp_path: Path) -> None:
    option = "-o Acquire::http::Proxy=http://proxy.example.gov.cn:3128"
    for target in ("prometheus", "alertmanager", "postgres-server"):
        planned = subprocess.run(
            ["make", "-n", target, f"APT_OPTIONS={option}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert planned.count(f"apt-get {option} ") == 3, planned  # install, update, install

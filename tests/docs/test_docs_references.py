"""The docs stand in the repository: nothing points at design notes kept outside it, and every
link to a section of a page (`docs/domain.md#alert-rules`) finds that section."""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

from scripts.docs_check import ROOT

# The design notes the project was started from live outside the repository; the docs hold what
# a reader needs of them (docs/domain.md, docs/architecture.md). Spelled in parts so that this
# file does not name them itself.
OUTSIDE = tuple(name + ".md" for name in ("DOMAIN", "ARCHITECTURE", "KAFKA"))
# A bare section number (the section sign and a digit) pointed into those notes too; a
# standard's section ("RFC 9562 §5.4") is a public one.
BARE_SECTION = re.compile(r"(?<!RFC \d{4} )(?<!RFC \d{3} )§\d")

# A page and a section: `docs/domain.md#alert-rules` anywhere, `domain.md#alert-rules` or
# `../domain.md#…` inside a Markdown link of a page.
DOCS_ANCHOR = re.compile(r"(?<![\w./-])docs/((?:[\w-]+/)*[\w-]+\.md)#([\w-]+)")
MARKDOWN_LINK = re.compile(r"\]\(((?:\.\./|\./)?(?:[\w-]+/)*[\w-]+\.md)#([\w-]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")


def tracked_text_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    files = []
    for name in listed.decode().split("\0"):
        path = ROOT / name
        if not name or not path.is_file():
            continue
        data = path.read_bytes()
        if b"\0" not in data[:8192]:  # text, not a picture or a workbook
            files.append(path)
    return files


def slug(heading: str) -> str:
    """The anchor a Markdown renderer (GitHub's rules) gives a heading."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


@cache
def anchors(page: Path) -> frozenset[str]:
    found: set[str] = set()
    fenced = False
    for line in page.read_text().splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        match = None if fenced else HEADING.match(line)
        if match is None:
            continue
        base = slug(match[1])
        name, n = base, 0
        while name in found:  # a repeated heading gets -1, -2 …
            n += 1
            name = f"{base}-{n}"
        found.add(name)
    return frozenset(found)


def test_slugs_follow_the_renderers_rules() -> None:
    assert slug("Alert rules") == "alert-rules"
    assert slug("Alerts: acknowledgement, repeats, escalation") == (
        "alerts-acknowledgement-repeats-escalation"
    )
    assert slug("Topic `sanpi.projects` (written by registry)") == (
        "topic-sanpiprojects-written-by-registry"
    )
    assert slug("旬报与月报日历") == "旬报与月报日历"


def test_no_tracked_file_points_at_design_notes_outside_the_repository() -> None:
    mentions = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}"
        for path in tracked_text_files()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if any(name in line for name in OUTSIDE) or BARE_SECTION.search(line)
    ]
    assert not mentions, "point at docs/domain.md or docs/architecture.md instead:\n" + "\n".join(
        mentions
    )


def test_every_link_to_a_section_of_the_docs_finds_it() -> None:
    broken = []
    checked = 0
    for path in tracked_text_files():
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            targets = [(ROOT / "docs" / page, anchor) for page, anchor in DOCS_ANCHOR.findall(line)]
            if path.suffix == ".md":
                targets += [
                    ((path.parent / page).resolve(), anchor)
                    for page, anchor in MARKDOWN_LINK.findall(line)
                    if not page.startswith("docs/")
                ]
            for page, anchor in targets:
                checked += 1
                if not page.is_file() or anchor not in anchors(page):
                    broken.append(f"{path.relative_to(ROOT)}:{number}: {page.name}#{anchor}")
    assert (
        checked > 50
    )  # the references the code and the docs make (a pattern gone wrong finds none)
    assert not broken, "no such page or section:\n" + "\n".join(broken)

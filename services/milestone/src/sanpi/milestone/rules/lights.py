"""Traffic lights per park, pure: each project's colour is its worst firing alert."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sanpi.events import Severity
from sanpi.events.vocabulary import SEVERITY_ORDER

# Colours a project can show: blue (pre-warning only) counts as green for the park's light.
COLOURS = (Severity.GREEN, Severity.BLUE, Severity.YELLOW, Severity.ORANGE, Severity.RED)


@dataclass
class ParkLight:
    park: str
    projects: int = 0
    counts: dict[Severity, int] = field(default_factory=lambda: dict.fromkeys(COLOURS, 0))
    overall: Severity = Severity.GREEN


def project_colour(severities: Iterable[Severity]) -> Severity:
    worst = max(severities, key=SEVERITY_ORDER.__getitem__, default=Severity.GREEN)
    return worst


def park_lights(
    projects: Iterable[tuple[str, str]],
    firing: Iterable[tuple[str, Severity]],
    *,
    share: float,
) -> list[ParkLight]:
    """`projects` = (project id, park) of every active project; `firing` = (project id,
    severity) of firing alerts. A park's overall colour is the most severe colour that at
    least `share` of its projects show (at that colour or worse); green otherwise."""
    by_project: dict[str, list[Severity]] = {}
    for project_id, severity in firing:
        by_project.setdefault(project_id, []).append(severity)
    counted: list[tuple[str, Severity, int]] = [
        (park, project_colour(by_project.get(project_id, [])), 1) for project_id, park in projects
    ]
    return lights_of(counted, share=share)


def lights_of(counted: Iterable[tuple[str, Severity, int]], *, share: float) -> list[ParkLight]:
    """The lights from (park, project colour, how many projects) rows, as a GROUP BY gives
    them (a project without a firing alert is green). A park is red when at least `share` of
    its projects are red; yellow when any of them is red (fewer than `share`), or when at
    least `share` are yellow, orange or red; green otherwise. The share alone made a park of
    16 projects with 3 red (19 %) green: an official reads green as "nothing severe here",
    which a red project contradicts (docs/domain.md#colours)."""
    lights: dict[str, ParkLight] = {}
    for park, colour, number in counted:
        light = lights.setdefault(park, ParkLight(park))
        light.projects += number
        light.counts[colour] += number
    for light in lights.values():
        for colour in (Severity.RED, Severity.ORANGE, Severity.YELLOW):
            worse_or_equal = sum(
                n for c, n in light.counts.items() if SEVERITY_ORDER[c] >= SEVERITY_ORDER[colour]
            )
            if light.projects and worse_or_equal / light.projects >= share:
                light.overall = colour
                break
        if light.overall is Severity.GREEN and light.counts[Severity.RED]:
            light.overall = Severity.YELLOW
    return sorted(lights.values(), key=lambda light: light.park)

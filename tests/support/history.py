"""The whole-history check of a fault run: what each project committed, against every record on
the topic from offset 0, every request the webhook sink received in arrival order, the
notification service's stream log and the registry's stage as it was sampled during the run.

Definitions (one project P at a time; projects are independent, order holds per key):

- **Commit order.** The stream sends P's writes one after another, each only once the previous
  one was accepted, so write i committed before write i+1 began. A write's events commit in its
  transaction. An event is tied to its write by a signature (the milestone kind, the stage
  change's reason and target, the report's period).
- **Topic.** Reading `sanpi.milestones` from offset 0, P's records (key P, one partition) in
  offset order. The relay publishes at least once, so a record whose event id came before is a
  *copy*, dropped. The first copies must be in commit order: an event of write i never comes
  after one of a write j > i (counted: *out of order*), every committed event is there (*lost*)
  and each signature has one event id (*committed twice*: a retried write applied twice). The
  sequence of first copies is P's **reference order**.
- **Webhook receiver.** Every 2xx request the sink answered, in arrival order, grouped by
  `webhook-id` (the delivery id, stable across retries). A later request with a known
  `webhook-id` is a *resend* (at least once, e.g. a worker killed after the receiver answered;
  the receiver drops it by `webhook-id`, as Standard Webhooks says). An event that reached the
  receiver under two `webhook-id`s is *duplicated*: two notifications of one event, which must
  never happen. The first requests of each `webhook-id`, in arrival order, must carry P's
  reference order exactly: nothing *lost*, none *out of order* (a request whose event comes
  before one that arrived earlier in the reference order).
- **Stream log** (`GET /v1/stream` from position 0): P's events in position order, each once,
  in the reference order.
- **Registry stage.** The stages the registry showed for P while the run went on, each
  observation after the previous one answered, repeats merged, must be a subsequence of the
  stages P passed through (SIGNED, UNDER_CONSTRUCTION, SUSPENDED, UNDER_CONSTRUCTION,
  IN_PRODUCTION): a projection that applied an older change after a newer one shows a stage out
  of sequence (*regression*). At the end it shows the last stage.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.support.sink import Received
from tests.support.stream import Write

Signature = tuple[str, ...]

ACHIEVED = "sanpi.milestone.achieved.v1"
STAGE_CHANGED = "sanpi.project.stage_changed.v1"
REPORTED = "sanpi.progress.reported.v1"

# The reason a stage change carries for each lifecycle route.
_REASON_OF_PATH = {"milestones": "MILESTONE", "suspend": "SUSPENDED", "resume": "RESUMED"}


def signature(event: Mapping[str, Any]) -> Signature:
    """What ties a CloudEvent to the write that made it."""
    data = event.get("data") or {}
    kind = event.get("type")
    if kind == ACHIEVED:
        return ("achieved", str(data.get("kind")))
    if kind == STAGE_CHANGED:
        return ("stage", str(data.get("reason")), str(data.get("to_stage")))
    if kind == REPORTED:
        return ("reported", str(data.get("period_key")))
    return (str(kind),)


def signatures_of(write: Write) -> list[Signature]:
    """The signatures of the events a write must produce."""
    out: list[Signature] = []
    for kind in write.events:
        if kind == ACHIEVED:
            out.append(("achieved", str(write.body["kind"])))
        elif kind == STAGE_CHANGED:
            assert write.stage_after is not None, write
            out.append(("stage", _REASON_OF_PATH[write.path], write.stage_after))
        elif kind == REPORTED:
            out.append(("reported", str(write.body["period_key"])))
        else:
            out.append((kind,))
    return out


@dataclass(frozen=True)
class Seen:
    """One event as some history holds it."""

    project_id: str
    event_id: str
    signature: Signature

    @staticmethod
    def of(event: Mapping[str, Any]) -> Seen:
        data = event.get("data") or {}
        project = str(data.get("project_id") or event.get("subject") or "")
        return Seen(project, str(event.get("id")), signature(event))


def _late(positions: Iterable[int]) -> int:
    """How many come after a later one: the elements below the running maximum."""
    late, highest = 0, -1
    for position in positions:
        if position < highest:
            late += 1
        highest = max(highest, position)
    return late


def _examples(found: list[str], limit: int = 5) -> list[str]:
    return found[:limit] + ([f"… {len(found) - limit} more"] if len(found) > limit else [])


@dataclass
class Report:
    """The counts of one run; `problems` lists what broke a rule, with examples."""

    counts: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def fail(self, what: str, examples: list[str]) -> None:
        if examples:
            self.problems.append(f"{what}: {'; '.join(_examples(examples))}")

    def summary(self) -> dict[str, int]:
        return dict(sorted(self.counts.items()))


class History:
    """Checks every history of a run against what the stream committed."""

    def __init__(
        self, committed: Mapping[str, Sequence[Write]], report: Report | None = None
    ) -> None:
        self.committed = committed
        # signature → index of the write that made it, per project
        self.write_of: dict[str, dict[Signature, int]] = {}
        for project, writes in committed.items():
            index: dict[Signature, int] = {}
            for i, write in enumerate(writes):
                for sig in signatures_of(write):
                    assert sig not in index, f"{project}: two writes make {sig}"
                    index[sig] = i
            self.write_of[project] = index
        self.reference: dict[str, list[str]] = {}
        self.signature_of: dict[str, Signature] = {}
        self.report = report or Report()

    def _name(self, event_id: str) -> str:
        return "/".join(self.signature_of.get(event_id, (event_id,)))

    @property
    def expected_events(self) -> int:
        return sum(len(index) for index in self.write_of.values())

    def topic(self, records: Iterable[Seen]) -> None:
        """`records`: the topic's records of these projects, each partition in offset order."""
        counts = self.report.counts
        by_project: dict[str, list[Seen]] = defaultdict(list)
        for seen in records:
            if seen.project_id in self.write_of:
                by_project[seen.project_id].append(seen)
        unexpected: list[str] = []
        late: list[str] = []
        lost: list[str] = []
        twice: list[str] = []
        for project, index in self.write_of.items():
            firsts: list[Seen] = []
            ids_of: dict[Signature, set[str]] = defaultdict(set)
            seen_ids: set[str] = set()
            for seen in by_project.get(project, []):
                if seen.event_id in seen_ids:
                    counts["topic_copies"] += 1
                    continue
                seen_ids.add(seen.event_id)
                if seen.signature not in index:
                    unexpected.append(f"{project} {seen.signature}")
                    continue
                firsts.append(seen)
                ids_of[seen.signature].add(seen.event_id)
                self.signature_of[seen.event_id] = seen.signature
            order = [index[s.signature] for s in firsts]
            if _late(order):
                late.append(f"{project}: writes in topic order {order}")
            counts["topic_out_of_order"] += _late(order)
            missing = [sig for sig in index if sig not in ids_of]
            lost += [f"{project} {sig}" for sig in missing]
            twice += [f"{project} {sig}" for sig, ids in ids_of.items() if len(ids) > 1]
            self.reference[project] = [s.event_id for s in firsts]
            counts["published"] += len({s.signature for s in firsts})
        counts["topic_lost"] += len(lost)
        counts["committed_twice"] += len(twice)
        self.report.fail("topic: events out of commit order", late)
        self.report.fail("topic: committed events missing", lost)
        self.report.fail("topic: one write's event committed under two ids", twice)
        self.report.fail("topic: events no write made", unexpected)

    def _against_reference(
        self, where: str, sequences: Mapping[str, Sequence[str]], *, counted: str = ""
    ) -> None:
        """Compares each project's sequence of distinct event ids with its reference order:
        counts `<counted>lost` and `<counted>out_of_order`, and records the problems."""
        lost: list[str] = []
        late: list[str] = []
        foreign: list[str] = []
        lost_count = late_count = 0
        for project, reference in self.reference.items():
            position = {event_id: i for i, event_id in enumerate(reference)}
            got = list(sequences.get(project, []))
            unknown = [e for e in got if e not in position]
            foreign += [f"{project} {e}" for e in unknown]
            order = [position[e] for e in got if e in position]
            missing = len(reference) - len(set(order))
            if missing:
                lost.append(f"{project}: {missing} of {len(reference)}")
            lost_count += missing
            if _late(order):
                inversions = [
                    f"{self._name(reference[b])} after {self._name(reference[a])}"
                    for a, b in itertools.pairwise(order)
                    if b < a
                ]
                late.append(f"{project}: {_late(order)} late, e.g. {inversions[:2]}")
            late_count += _late(order)
        self.report.fail(f"{where}: events lost", lost)
        self.report.fail(f"{where}: events out of order", late)
        self.report.fail(f"{where}: events the topic does not hold", foreign)
        self.report.counts[f"{counted}lost"] += lost_count
        self.report.counts[f"{counted}out_of_order"] += late_count

    def sink(self, received: Iterable[Received]) -> None:
        """`received`: every request the webhook sink got, in arrival order."""
        counts = self.report.counts
        hooks_of: dict[str, set[str]] = defaultdict(set)
        first_of_hook: set[str] = set()
        arrivals: dict[str, list[str]] = defaultdict(list)
        for request in received:
            if not 200 <= request.status < 300:
                counts["sink_refused"] += 1
                continue
            hook = request.headers.get("webhook-id", "")
            if hook in first_of_hook:
                counts["resent"] += 1
                continue
            first_of_hook.add(hook)
            event = json.loads(request.body)
            seen = Seen.of(event)
            if seen.project_id not in self.write_of:
                continue  # another scenario's project
            hooks_of[seen.event_id].add(hook)
            if len(hooks_of[seen.event_id]) == 1:
                arrivals[seen.project_id].append(seen.event_id)
        twice = [f"{e} in {sorted(h)}" for e, h in hooks_of.items() if len(h) > 1]
        counts["delivered"] += len(hooks_of)
        counts["duplicated"] += len(twice)
        self.report.fail("webhook: one event in two notifications", twice)
        self._against_reference("webhook", arrivals)

    def stream_log(self, events: Iterable[Mapping[str, Any]]) -> None:
        """`events`: the stream log's CloudEvents of these projects, in position order."""
        counts = self.report.counts
        order: dict[str, list[str]] = defaultdict(list)
        once: set[str] = set()
        twice: list[str] = []
        for event in events:
            seen = Seen.of(event)
            if seen.event_id in once:
                twice.append(seen.event_id)
                continue
            once.add(seen.event_id)
            order[seen.project_id].append(seen.event_id)
        counts["stream_log_events"] += len(once)
        counts["stream_log_twice"] += len(twice)
        self.report.fail("stream log: an event logged twice", twice)
        self._against_reference("stream log", order, counted="stream_log_")

    def stages(self, samples: Mapping[str, Sequence[str]], passed: Sequence[str]) -> None:
        """`samples`: each project's registry stage as observed, in observation order;
        `passed`: the stages every project went through, in order."""
        counts = self.report.counts
        regressions: list[str] = []
        for project, observed in samples.items():
            counts["stage_samples"] += len(observed)
            merged = [s for i, s in enumerate(observed) if i == 0 or observed[i - 1] != s]
            at = -1  # where in `passed` the previous observation matched (earliest match)
            for stage in merged:
                later = [i for i in range(at + 1, len(passed)) if passed[i] == stage]
                if later:
                    at = later[0]
                    continue
                regressions.append(f"{project}: {merged}")
                counts["stage_regressions"] += 1
                # Went back: the projection now shows the latest earlier point at this stage.
                at = max((i for i in range(at) if passed[i] == stage), default=at)
        self.report.fail("registry: the stage went back in time", regressions)

    def end_state(self, what: str, wrong: Sequence[str]) -> None:
        self.report.counts[f"{what}_wrong"] += len(wrong)
        self.report.fail(f"{what}: wrong end state", list(wrong))

"""`sanpi progress …`, `sanpi alerts`, `sanpi evaluate`: reports, plans and alerts."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from sanpi.client.cli.common import JsonOpt, TokenOpt, client, console, err, fail, show
from sanpi.client.sdk import ApiError
from sanpi.client.sdk.milestone import MAX_BATCH_ROWS
from sanpi.events.labels import field_of_header

app = typer.Typer(help="旬/月 progress reports and investment plans.", no_args_is_help=True)


@app.command("report")
def report(
    project_id: str,
    period: Annotated[str, typer.Option(help="2023-03-X2 (March 中旬) or 2023-03 (the month)")],
    cum: Annotated[int, typer.Option(help="累计完成投资, 万元")],
    ytd: Annotated[int, typer.Option(help="本年完成投资, 万元")],
    funds: Annotated[int | None, typer.Option(help="到位资金 (cumulative), 万元")] = None,
    physical: Annotated[float | None, typer.Option(help="形象进度 %")] = None,
    narrative: Annotated[str, typer.Option(help="what happened")] = "",
    problem: Annotated[list[str] | None, typer.Option(help="存在问题 (repeat)")] = None,
    correction: Annotated[
        bool, typer.Option(help="the figures correct an earlier report (may lower it)")
    ] = False,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Submit a progress report; late ones are accepted and marked late."""
    body = {
        "period_key": period,
        "completed_investment_cum": cum,
        "completed_investment_ytd": ytd,
        "funds_arrived_cum": funds,
        "physical_progress_pct": physical,
        "narrative": narrative,
        "problems": [{"description": p} for p in problem or []],
        "correction": correction,
    }
    with client(token) as sanpi:
        try:
            result = sanpi.milestone.report_progress(project_id, body)
        except ApiError as exc:
            fail(exc)
        show(result, as_json, ["period_key", "completed_investment_cum", "deadline", "late"])


# The columns a batch file may have (headers: these names, or their Chinese or English labels).
BATCH_FIELDS = (
    "project_id",
    "period_key",
    "period_kind",
    "completed_investment_cum",
    "completed_investment_ytd",
    "funds_arrived_cum",
    "physical_progress_pct",
    "narrative",
    "problems",
    "correction",
)
_YES = {"1", "true", "yes", "y", "是", "对", "√"}
_NO = {"", "0", "false", "no", "n", "否"}


def _decode(raw: bytes) -> str:
    """A sheet saved as CSV: UTF-8 (with or without BOM), else GBK (Excel on Chinese Windows)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gbk")


def read_batch_file(path: Path) -> tuple[list[dict[str, Any]], list[int]]:
    """The rows of a JSON ([rows] or {"reports": [rows]}) or CSV file, and the number people
    call each row by (a CSV's line, the header being line 1; a JSON list's position from 1).
    CSV cells are sent as written (the service names what it cannot read); empty cells are left
    out; 存在问题 becomes one problem; 更正 takes 是/否 as well as true/false."""
    raw = path.read_bytes()
    if path.suffix.lower() == ".json":
        data = json.loads(_decode(raw))
        rows = (
            data.get("reports", [] if "milestones" in data else None)
            if isinstance(data, dict)
            else data
        )
        if not isinstance(rows, list):
            raise ValueError(
                'a JSON batch is a list of reports, or {"reports": [...], "milestones": [...]}'
            )
        return rows, list(range(1, len(rows) + 1))
    reader = csv.reader(io.StringIO(_decode(raw)))
    header = next(reader, None)
    if header is None:
        raise ValueError("the file is empty")
    columns = [field_of_header(h, BATCH_FIELDS) for h in header]
    unknown = [h for h, c in zip(header, columns, strict=True) if c is None and h.strip()]
    if unknown:
        raise ValueError(f"unknown columns: {', '.join(unknown)}")
    rows, numbers = [], []
    for line, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        row: dict[str, Any] = {}
        for name, cell in zip(columns, cells, strict=False):
            value = cell.strip()
            if name is None or value == "":
                continue
            if name == "problems":
                row[name] = [{"description": value}]
            elif name == "correction" and value.lower() in _YES | _NO:
                row[name] = value.lower() in _YES
            else:
                row[name] = value
        rows.append(row)
        numbers.append(line)
    return rows, numbers


def read_milestones(path: Path) -> list[Any]:
    """The milestones of a JSON batch ({"milestones": [...]}); a CSV carries reports only."""
    if path.suffix.lower() != ".json":
        return []
    data = json.loads(_decode(path.read_bytes()))
    found = data.get("milestones", []) if isinstance(data, dict) else []
    if not isinstance(found, list):
        raise ValueError('"milestones" is a list of milestones')
    return found


STATUS_WORDS = {
    "zh": {"accepted": "已接收", "late": "已接收（迟报）", "duplicate": "重复（未写入）", "refused": "被拒绝"},
    "en": {"accepted": "accepted", "late": "accepted (late)", "duplicate": "duplicate", "refused": "refused"},
}  # fmt: skip


@app.command("batch")
def batch(
    file: Annotated[
        Path,
        typer.Argument(
            help="reports as .csv (UTF-8 or GBK) or .json (reports and milestones)",
            exists=True,
            dir_okay=False,
        ),
    ],
    all_or_nothing: Annotated[
        bool,
        typer.Option("--all-or-nothing", help="write nothing if any row is refused (≤ 500 rows)"),
    ] = False,
    lang: Annotated[str, typer.Option("--lang", help="messages in zh or en")] = "zh",
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Submit many 旬/月 reports at once (a park's 旬): one row per report, columns project_id,
    period_key, completed_investment_cum, completed_investment_ytd and optionally
    funds_arrived_cum, physical_progress_pct, narrative, problems, correction (or their Chinese
    names: 项目, 填报期, 累计完成投资, 本年完成投资, 累计到位资金, 形象进度, 进展情况, 存在问题, 更正).
    A .json file is a list of reports, or {"reports": [...], "milestones": [...]} with reached
    milestones too (each a `sanpi milestone post` body plus project_id: kind, date, evidence,
    label), recorded after the reports. Prints each row's outcome; exits 1 if any row was
    refused."""  # fmt: skip
    if lang not in ("zh", "en"):
        err.print("[red]--lang[/red] is zh or en")
        raise typer.Exit(2)
    try:
        rows, numbers = read_batch_file(file)
        nodes = read_milestones(file)
    except (ValueError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        err.print(f"[red]{file}[/red]: {exc}")
        raise typer.Exit(2) from exc
    if not rows and not nodes:
        err.print(f"[red]{file}[/red]: no rows")
        raise typer.Exit(2)
    # Reports first, then milestones (the service records them in that order), 500 a request.
    items = [("reports", i) for i in range(len(rows))] + [
        ("milestones", i) for i in range(len(nodes))
    ]
    if all_or_nothing and len(items) > MAX_BATCH_ROWS:
        err.print(
            f"--all-or-nothing takes at most {MAX_BATCH_ROWS} rows in one request, not {len(items)}"
        )
        raise typer.Exit(2)
    chunks = [
        items[start : start + MAX_BATCH_ROWS] for start in range(0, len(items), MAX_BATCH_ROWS)
    ]
    results: list[dict[str, Any]] = []
    reached: list[dict[str, Any]] = []
    with client(token) as sanpi:
        for n, chunk in enumerate(chunks, start=1):
            if len(chunks) > 1:
                err.print(f"batch {n}/{len(chunks)}: {len(chunk)} rows")
            sent = {
                "reports": [i for k, i in chunk if k == "reports"],
                "milestones": [i for k, i in chunk if k == "milestones"],
            }
            try:
                answer = sanpi.milestone.report_batch(
                    [rows[i] for i in sent["reports"]],
                    milestones=[nodes[i] for i in sent["milestones"]],
                    all_or_nothing=all_or_nothing,
                    language=lang,
                )
            except ApiError as exc:
                fail(exc)
            for key, out in (("reports", results), ("milestones", reached)):
                for result in answer["results" if key == "reports" else "milestones"]:
                    result["index"] = sent[key][result["index"]]
                    out.append(result)
    if as_json:
        shown: Any = {"results": results, "milestones": reached} if nodes else results
        console.print_json(json.dumps(shown, ensure_ascii=False))
    else:
        if rows:
            _print_outcomes(results, rows, numbers, lang)
        if nodes:
            _print_milestones(reached, nodes, lang)
    every = [*results, *reached]
    counts = {s: sum(1 for r in every if r["status"] == s) for s in STATUS_WORDS["en"]}
    accepted, refused = counts["accepted"] + counts["late"], counts["refused"]
    if lang == "zh":
        err.print(
            f"接收 {accepted} 条（其中迟报 {counts['late']} 条），重复 {counts['duplicate']} 条，拒绝 {refused} 条"
        )
    else:
        err.print(
            f"accepted {accepted} ({counts['late']} late), duplicate {counts['duplicate']}, refused {refused}"
        )
    if refused:
        raise typer.Exit(1)


@app.command("import")
def import_sheet(
    file: Annotated[
        Path,
        typer.Argument(
            help="the filled 旬报/月报 sheet (.xlsx, or .csv in UTF-8 or GBK)",
            exists=True,
            dir_okay=False,
        ),
    ],
    all_or_nothing: Annotated[
        bool, typer.Option("--all-or-nothing", help="write nothing if any row is refused")
    ] = False,
    lang: Annotated[str, typer.Option("--lang", help="messages in zh or en")] = "zh",
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import a 旬报/月报 sheet (the one `sanpi progress template` writes, filled in) in one
    request, whatever its size. Prints each row's outcome by its row in the sheet, then each
    refused row's reason on a line of its own; exits 1 if any row was refused."""
    if lang not in ("zh", "en"):
        err.print("[red]--lang[/red] is zh or en")
        raise typer.Exit(2)
    with client(token) as sanpi:
        try:
            answer = sanpi.milestone.import_reports(
                file.name, file.read_bytes(), all_or_nothing=all_or_nothing, language=lang
            )
        except ApiError as exc:
            fail(exc)
    if as_json:
        console.print_json(json.dumps(answer, ensure_ascii=False))
    else:
        words, zh = STATUS_WORDS[lang], lang == "zh"
        table = Table(*(("行", "项目", "结果") if zh else ("row", "project", "status")))
        for result in answer["results"]:
            table.add_row(str(result["row"]), result["project_id"] or "", words[result["status"]])
        console.print(table)
        for result in answer["results"]:
            for error in result["errors"]:
                console.print(error["message"], soft_wrap=True, markup=False, highlight=False)
    if lang == "zh":
        err.print(
            f"接收 {answer['accepted']} 行（其中迟报 {answer['late']} 行），"
            f"重复 {answer['duplicate']} 行，拒绝 {answer['refused']} 行"
        )
    else:
        err.print(
            f"accepted {answer['accepted']} ({answer['late']} late), "
            f"duplicate {answer['duplicate']}, refused {answer['refused']}"
        )
    if answer["refused"]:
        raise typer.Exit(1)


def _print_outcomes(
    results: list[dict[str, Any]], rows: list[Any], numbers: list[int], lang: str
) -> None:
    """A table of the report rows' outcomes by the file's line, then each refused row's errors
    on a line of its own (never cut: a message names the field and the value the service could
    not take)."""
    zh = lang == "zh"
    _print_table(
        results,
        rows,
        headers=("行", "项目", "填报期", "结果") if zh else ("row", "project", "period", "status"),
        shown="period_key",
        named=lambda i: (f"第 {numbers[i]} 行" if zh else f"row {numbers[i]}", str(numbers[i])),
        lang=lang,
    )


def _print_milestones(results: list[dict[str, Any]], nodes: list[Any], lang: str) -> None:
    """The same for the milestone rows, numbered from 1 in the file's `milestones`."""
    zh = lang == "zh"
    _print_table(
        results,
        nodes,
        headers=("里程碑", "项目", "节点", "结果")
        if zh
        else ("milestone", "project", "kind", "status"),
        shown="kind",
        named=lambda i: (f"里程碑第 {i + 1} 条" if zh else f"milestone {i + 1}", str(i + 1)),
        lang=lang,
    )


def _print_table(
    results: list[dict[str, Any]],
    sent: list[Any],
    *,
    headers: tuple[str, str, str, str],
    shown: str,
    named: Callable[[int], tuple[str, str]],
    lang: str,
) -> None:
    words = STATUS_WORDS[lang]
    table = Table(*headers)
    colour = {"accepted": "green", "late": "yellow", "duplicate": "cyan", "refused": "red"}
    problems = []
    for result in results:
        row = sent[result["index"]]
        value = row.get(shown, "") if isinstance(row, dict) else ""
        status = result["status"]
        said, number = named(result["index"])
        table.add_row(
            number,
            str(result.get("project_id") or ""),
            str(value),
            f"[{colour[status]}]{words[status]}[/{colour[status]}]",
        )
        for error in result["errors"]:
            problems.append(
                f"{said}：{error['message']}" if lang == "zh" else f"{said}: {error['message']}"
            )
    console.print(table)
    for problem in problems:
        console.print(problem, soft_wrap=True, markup=False, highlight=False)


@app.command("plan")
def plan(
    project_id: str,
    year: Annotated[int, typer.Option(help="calendar year")],
    annual: Annotated[int, typer.Option(help="年度计划投资, 万元")],
    monthly: Annotated[
        str | None, typer.Option(help="12 comma-separated monthly amounts (must add up)")
    ] = None,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Set a year's investment plan, optionally split by month."""
    body: dict[str, object] = {"annual_plan": annual}
    if monthly:
        body["monthly"] = [int(v) for v in monthly.split(",")]
    with client(token) as sanpi:
        try:
            result = sanpi.milestone.set_investment_plan(project_id, year, body)
        except ApiError as exc:
            fail(exc)
        show(result, as_json, ["project_id", "year", "annual_plan", "source"])


def alerts(
    project_id: Annotated[str | None, typer.Option("--project", help="one project")] = None,
    rule: Annotated[str | None, typer.Option(help="R02, R04, …")] = None,
    severity: Annotated[str | None, typer.Option(help="blue, yellow, orange, red")] = None,
    park: Annotated[str | None, typer.Option(help="park name")] = None,
    state: Annotated[str | None, typer.Option(help="FIRING or RESOLVED")] = "FIRING",
    limit: Annotated[int, typer.Option(help="page size")] = 50,
    cursor: Annotated[str | None, typer.Option(help="next_cursor of the previous page")] = None,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List alerts (firing ones by default)."""
    with client(token) as sanpi:
        try:
            result = sanpi.milestone.alerts(
                project_id=project_id,
                rule=rule,
                severity=severity,
                park=park,
                state=state,
                limit=limit,
                cursor=cursor,
            )
        except ApiError as exc:
            fail(exc)
        show(result, as_json, ["alert_key", "severity", "state", "park", "title"])


def evaluate(
    as_of: Annotated[
        str | None,
        typer.Option(help="YYYY-MM-DD; default today. Another day is a preview unless --pin"),
    ] = None,
    pin: Annotated[
        bool, typer.Option(help="evaluate for real as of that day, and keep evaluating as of it")
    ] = False,
    token: TokenOpt = None,
) -> None:
    """Admin only: run every alert rule as of a day. Today (or the pinned day) raises and
    resolves alerts for real; another day answers a preview ("preview": true, the alerts that
    would fire under "alerts") and writes nothing, unless --pin."""
    with client(token) as sanpi:
        try:
            result = sanpi.milestone.evaluate(as_of, pin)
        except ApiError as exc:
            fail(exc)
        show(result, True)


def lights(token: TokenOpt = None, as_json: JsonOpt = False) -> None:
    """Traffic lights per park."""
    with client(token) as sanpi:
        try:
            result = sanpi.milestone.traffic_lights()
        except ApiError as exc:
            fail(exc)
        show(result, as_json, ["park", "projects", "overall", "counts"])


@app.command("template")
def template(
    xun: Annotated[
        str, typer.Option("--xun", "--period", help="2023-03-X2 (March 中旬) or 2023-03 (月报)")
    ],
    park: Annotated[str, typer.Option(help="the park, e.g. 梧桐")],
    out: Annotated[
        Path | None,
        typer.Option(help="where to write (default sanpi-progress-<period>-<park>.xlsx)"),
    ] = None,
    token: TokenOpt = None,
) -> None:
    """Write the 旬报/月报 sheet of a period for one park: a row per project that reports, its id,
    name and last cumulative figure filled in; units in the note row, checks and dropdowns."""
    path = out or Path(f"sanpi-progress-{xun}-{park}.xlsx")
    with client(token) as sanpi:
        try:
            content = sanpi.milestone.progress_template(xun, park)
        except ApiError as exc:
            fail(exc)
    path.write_bytes(content)
    console.print(f"wrote {path} ({len(content)} bytes)")


def bulletin(
    period: Annotated[str, typer.Argument(help="2023-03-X2 (a 旬) or 2023-03 (a month)")],
    pdf: Annotated[Path | None, typer.Option("--pdf", help="write the A4 PDF here")] = None,
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="write the XLSX here")] = None,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The 通报 of a 旬 or month: the district against its targets and 序时进度, the parks
    ranked with 红/黄/绿 marks, red projects, new starts. --pdf / --xlsx write the files;
    otherwise the ranking and the red projects are printed."""
    with client(token) as sanpi:
        try:
            if pdf is not None:
                pdf.write_bytes(sanpi.milestone.bulletin(period, "pdf"))
                console.print(f"wrote {pdf}")
            if xlsx is not None:
                xlsx.write_bytes(sanpi.milestone.bulletin(period, "xlsx"))
                console.print(f"wrote {xlsx}")
            if pdf is not None or xlsx is not None:
                return
            body = sanpi.milestone.bulletin(period)
        except ApiError as exc:
            fail(exc)
    if as_json:
        print(json.dumps(body, ensure_ascii=False))
        return
    console.print(f"[bold]{body['title']}[/bold] {body['period_label']}（截至 {body['as_of']}）")
    ranking = Table("排名", "园区", "标识", "项目数", "红色", "完成率", "序时进度", "差距")
    for p in body["parks"]:
        inv = p["investment"]
        ranking.add_row(
            str(p["rank"]),
            p["park"],
            p["mark_zh"],
            str(p["projects"]),
            str(p["red"]),
            _pct(inv["completion_pct"]),
            _pct(inv["expected_pct"]),
            "—" if inv["gap_pts"] is None else f"{inv['gap_pts']:+.1f}",
        )
    console.print(ranking)
    reds = Table("红色预警项目", "园区", "责任单位", "规则")
    for r in body["red_projects"]:
        rules = "；".join(f"{h['rule']} {h['title']}" for h in r["rules"])
        reds.add_row(r["name"], r["park"], r["responsible_unit"] or "—", rules)
    console.print(reds)
    console.print(f"本期新开工 {len(body['started'])} 个，新投产 {len(body['produced'])} 个")


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"

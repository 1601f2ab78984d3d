"""What each dashboard table looks like as a chart: a generic shape the page's uPlot module draws
({"kind": "line" | "bars", "x": [...], "ticks": [...] or None, "series": [{"label", "values"}], axis names})."""

from __future__ import annotations

from typing import Any

from app.dashboards.desk_data import Table


def _col(table: Table, name: str) -> list[Any]:
    i = table.columns.index(name)
    return [row[i] for row in table.rows]


def _plot(kind: str, x: list[Any], series: list[tuple[str, list[Any]]], xlabel: str, ylabel: str,
          ticks: list[str] | None = None, counts: bool = False, whole_x: bool = False) -> dict[str, Any]:
    """`counts`: the y axis counts things (whole-number ticks); `whole_x`: so does the x axis."""
    return {"kind": kind, "x": x, "ticks": ticks, "xlabel": xlabel, "ylabel": ylabel, "counts": counts,
            "whole_x": whole_x, "series": [{"label": label, "values": values} for label, values in series]}


def _categories(table: Table, labels: list[str], values: list[Any], xlabel: str, ylabel: str,
                label: str) -> dict[str, Any]:
    return _plot("bars", list(range(len(labels))), [(label, values)], xlabel, ylabel, ticks=labels, counts=True)


def plot(table: Table) -> dict[str, Any] | None:
    """The chart of a table, or None when there is nothing to draw yet."""
    if not table.rows:
        return None
    if table.name == "iou":
        series = [(c.removeprefix("iou_"), _col(table, c)) for c in table.columns if c.startswith("iou_")]
        return _plot("line", _col(table, "version"), [("fg mIoU", _col(table, "miou_fg")), *series],
                     "model version", "validation IoU", whole_x=True)
    if table.name == "efficiency":
        series = [("this project", _col(table, "miou_fg"))]
        if any(v is not None for v in _col(table, "random_only_curve")):
            series.append(("at the random share's gain per label", _col(table, "random_only_curve")))
        return _plot("line", _col(table, "labels"), series, "labels trained on", "validation fg mIoU")
    if table.name == "calibration":
        mid = [round((float(lo) + float(hi)) / 2, 4) for lo, hi in zip(_col(table, "bin_lo"), _col(table, "bin_hi"),
                                                                          strict=True)]
        keep = [i for i, n in enumerate(_col(table, "pixels")) if n]  # empty bins have no accuracy
        return _plot("line", [mid[i] for i in keep], [
            ("perfect calibration", [mid[i] for i in keep]),
            ("before scaling", [_col(table, "accuracy_before")[i] for i in keep]),
            ("after scaling", [_col(table, "accuracy_after")[i] for i in keep])], "confidence", "accuracy")
    if table.name == "mix":
        labels = [f"{p} · {s}" for p, s in zip(_col(table, "pick"), _col(table, "strategy"), strict=True)]
        return _categories(table, labels, _col(table, "labels"), "pick · strategy", "labels", "labels")
    if table.name == "mix_classes":  # x: the classes; one line per pick kind and strategy
        groups = table.summary["groups"]
        names = table.summary["classes"]
        share = {(f"{r[0]} · {r[1]}", r[2]): r[4] for r in table.rows}
        return _plot("line", list(range(len(names))), [(g, [share.get((g, c)) for c in names]) for g in groups],
                     "class", "share of labeled pixels", ticks=names)
    if table.name == "throughput":
        days = sorted(set(_col(table, "day")))
        people = sorted(set(_col(table, "annotator")))
        count = {(r[0], r[1]): r[2] for r in table.rows}
        x = list(range(len(days)))
        return _plot("bars" if len(days) == 1 else "line", x,
                     [(p, [count.get((d, p), 0) for d in days]) for p in people], "day", "labels per day",
                     ticks=[d[5:] for d in days], counts=True)
    if table.name == "queue":
        return _categories(table, _col(table, "age"), _col(table, "open_tasks"), "age of open task", "tasks",
                           "open tasks")
    if table.name == "breaches":
        rules = table.summary.get("by_rule", {})
        return _categories(table, list(rules), list(rules.values()), "rule", "open breaches", "open breaches")
    return None

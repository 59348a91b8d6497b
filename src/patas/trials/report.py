"""Writing the results: CSV files and a self-contained report.html (inline SVG, no links out)."""

from __future__ import annotations

import html
import io
import platform
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from patas.trials.analyze import Results

CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.85em}
td,th{border:1px solid #ccc;padding:.25em .5em;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}pre{background:#f7f7f7;padding:1em;overflow:auto}
.flow{display:flex;gap:1em;flex-wrap:wrap}.box{border:2px solid #557;padding:.5em 1em;
border-radius:6px;background:#f5f5fb}"""


def versions() -> dict[str, str]:
    import matplotlib
    import scipy
    import statsmodels

    import patas

    return {
        "patas": getattr(patas, "__version__", "0.1.0"),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scipy": scipy.__version__,
        "statsmodels": statsmodels.__version__,
        "matplotlib": matplotlib.__version__,
    }


def write_csvs(results: Results, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    results.estimates.to_csv(out / "estimates.csv", index=False)
    pd.concat([results.balance, results.balance_tests], ignore_index=True).to_csv(
        out / "balance.csv", index=False
    )
    pd.concat([results.attrition, results.attrition_tests], ignore_index=True).to_csv(
        out / "attrition.csv", index=False
    )
    for name, frame in (
        ("lee_bounds", results.lee),
        ("tot", results.tot),
        ("heterogeneity", results.heterogeneity),
        ("flow", results.flow),
    ):
        if len(frame):
            frame.to_csv(out / f"{name}.csv", index=False)


def coefficient_svg(table: pd.DataFrame) -> str:
    """A coefficient plot of every outcome (and arm) with its confidence interval, as SVG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [
        f"{r.outcome} ({r.arm})" if table.arm.nunique() > 1 else str(r.outcome)
        for r in table.itertuples()
    ]
    height = max(2.0, 0.28 * len(table) + 1)
    fig, ax = plt.subplots(figsize=(7, height))
    pos = np.arange(len(table))[::-1]
    ax.errorbar(
        table.estimate,
        pos,
        xerr=[table.estimate - table.ci_low, table.ci_high - table.estimate],
        fmt="o",
        color="#335",
        ecolor="#88a",
        capsize=2,
        markersize=4,
    )
    ax.axvline(0, color="#a33", linewidth=0.8)
    ax.set_yticks(pos, labels, fontsize=7)
    ax.set_xlabel("effect (outcome units; indices in control-group SD)")
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _table(frame: pd.DataFrame) -> str:
    if frame is None or not len(frame):
        return "<p>(none)</p>"
    return frame.to_html(
        index=False, float_format=lambda v: f"{v:.4g}", na_rep="", border=0, escape=True
    )


def _flow(results: Results) -> str:
    flow = results.flow
    total = int(flow.randomised.sum())
    boxes = [f"<div class='box'>randomised<br><b>{total}</b></div>"]
    for row in flow.itertuples():
        boxes.append(
            f"<div class='box'><b>{html.escape(str(row.arm))}</b><br>randomised {row.randomised}"
            f"<br>surveyed {row.surveyed}<br>analysed {row.analysed}</div>"
        )
    return "<div class='flow'>" + "".join(boxes) + "</div>"


def _estimation_notes(table: pd.DataFrame) -> str:
    """Per outcome: why it has no estimate, or what was omitted; so an empty cell or a changed
    model is never silent."""
    if "note" not in table:
        return ""
    items = []
    for (outcome, note), _ in table[table.note.fillna("") != ""].groupby(
        ["outcome", "note"], sort=False
    ):
        items.append(f"<li><b>{html.escape(str(outcome))}</b>: {html.escape(str(note))}</li>")
    if not items:
        return ""
    return "<p>Estimation notes:</p><ul>" + "".join(items) + "</ul>"


def render(results: Results, data_name: str) -> str:
    plan = results.plan
    t = results.estimates
    main_cols = [
        "family",
        "outcome",
        "arm",
        "estimate",
        "std_error",
        "p_value",
        "ci_low",
        "ci_high",
        "ri_p_value",
        "ri_mc_se",
        "q_value",
        "n",
        "n_treated",
        "n_control",
        "control_mean",
        "control_sd",
        "note",
    ]
    shown = t[np.isfinite(t.estimate)] if len(t) else t
    sections = [
        f"<h1>{html.escape(plan.title)}</h1>",
        f"<p>Data: {html.escape(data_name)}. Standard errors: {plan.se}. Covariate adjustment: "
        f"{plan.covariate_adjustment}. Strata (fixed effects): {', '.join(plan.strata) or '-'}."
        f" Randomisation inference: {plan.ri.draws} draws, seed {plan.ri.seed}.</p>",
        "<h2>Flow</h2>",
        _flow(results),
        "<h2>Effects</h2>",
        coefficient_svg(shown) if len(shown) else "",
        _estimation_notes(t),
        _table(t[[c for c in main_cols if c in t]]),
        "<h2>Balance</h2>",
        _table(results.balance),
        _table(results.balance_tests),
        "<h2>Attrition</h2>",
        _table(results.attrition_tests),
        _table(results.attrition[results.attrition.level == "overall"]),
        "<details><summary>by stratum</summary>",
        _table(results.attrition[results.attrition.level == "stratum"]),
        "</details>",
    ]
    if len(results.lee):
        sections += ["<h2>Lee bounds</h2>", _table(results.lee)]
    if len(results.tot):
        sections += ["<h2>Effect of participation (TOT, 2SLS)</h2>", _table(results.tot)]
    if len(results.heterogeneity):
        sections += ["<h2>Heterogeneity by subgroup</h2>", _table(results.heterogeneity)]
    sections += [
        "<h2>Missing data and notes</h2><ul>",
        *[f"<li>{html.escape(n)}</li>" for n in results.notes],
        "</ul>",
        "<h2>The plan</h2><pre>",
        html.escape(yaml.safe_dump(plan.model_dump(exclude_none=True), sort_keys=False)),
        "</pre><h2>Software</h2>",
        _table(pd.DataFrame([versions()])),
    ]
    body = "\n".join(sections)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(plan.title)}"
        f"</title><style>{CSS}</style></head><body>{body}</body></html>"
    )


def write(results: Results, out: Path, data_name: str) -> None:
    write_csvs(results, out)
    (out / "report.html").write_text(render(results, data_name), encoding="utf-8")

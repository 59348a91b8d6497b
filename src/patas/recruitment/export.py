"""The dashboard as static files (index.html + one SVG and one CSV per table), for offline use.

`patas simulate` calls `write_dashboard(out_dir)` to leave the dashboard in its output folder.
"""

from __future__ import annotations

from pathlib import Path

from django.template.loader import render_to_string
from django.utils import translation

from patas.core import clock
from patas.recruitment import charts, dashboard


def write_dashboard(
    out_dir: Path | str, viewer: dashboard.Viewer | None = None, lang: str = "en"
) -> list[Path]:
    """Write the dashboard into out_dir (created if missing); returns the files written.

    The default viewer is the researcher's (arms and partners' reports included): the export
    holds aggregates only, never a man's or a partner's row.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    viewer = viewer or dashboard.Viewer(show_arm=True, show_partners=True)
    written = []
    with translation.override(lang):
        tables = dashboard.all_tables(viewer)
        for table in tables:
            written.append(out / f"{table.key}.csv")
            written[-1].write_text(table.csv(), encoding="utf-8")
            if table.chart is not None:
                written.append(out / f"{table.key}.svg")
                written[-1].write_bytes(charts.render(table))
        html = render_to_string(
            "recruitment/static_dashboard.html",
            {
                "tables": tables,
                "summary": dashboard.summary(tables),
                "static": True,
                "lang": lang,
                "written": clock.now().strftime("%Y-%m-%d %H:%M"),
            },
        )
    written.append(out / "index.html")
    written[-1].write_text(html, encoding="utf-8")
    return written

"""Draw the expert image cards the days refer to (media/day-NN.png).

Run from anywhere: `python content/hablemos-entre-patas/media/make_cards.py`.
Each card shows the day, the expert's role and the day's title in Spanish and English;
the words the expert says travel as the message's caption and transcript.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import yaml  # noqa: E402

MEDIA = Path(__file__).resolve().parent
DAYS = MEDIA.parent / "days"
COLOURS = {
    "welcome": "#2a9d8f",
    "communication": "#264653",
    "health": "#9c4f96",
    "finances": "#e76f51",
    "finances_plan": "#e76f51",
    "home": "#f4a261",
    "closing": "#2a9d8f",
}


def draw_card(day: dict, item: dict, target: Path) -> None:
    colour = COLOURS.get(day["module"], "#264653")
    fig = plt.figure(figsize=(4.8, 4.8), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    ax.add_patch(plt.Rectangle((0, 0), 1, 1, color=colour))
    ax.add_patch(plt.Circle((0.5, 0.74), 0.11, color="white", alpha=0.9))
    initial = item.get("expert", "?")[:1]
    ax.text(0.5, 0.74, initial, ha="center", va="center", fontsize=40, color=colour, weight="bold")
    ax.text(
        0.5, 0.93, f"Día {day['day']} · Day {day['day']}", ha="center", fontsize=13, color="white"
    )
    ax.text(
        0.5, 0.56, item.get("expert", ""), ha="center", fontsize=11, color="white", style="italic"
    )
    title_es = "\n".join(textwrap.wrap(day["title"]["es"], 26))
    title_en = "\n".join(textwrap.wrap(day["title"]["en"], 32))
    ax.text(
        0.5, 0.36, title_es, ha="center", va="center", fontsize=19, color="white", weight="bold"
    )
    ax.text(0.5, 0.14, title_en, ha="center", va="center", fontsize=12, color="white")
    ax.text(0.5, 0.03, "Hablemos Entre Patas", ha="center", fontsize=8, color="white", alpha=0.8)
    fig.savefig(target, dpi=100)
    plt.close(fig)


def main() -> None:
    count = 0
    for path in sorted(DAYS.glob("day-*.yaml")):
        day = yaml.safe_load(path.read_text(encoding="utf-8"))
        for item in day["messages"]:
            if item.get("type") == "image" and item.get("file"):
                draw_card(day, item, MEDIA.parent / item["file"])
                count += 1
    print(f"{count} cards written to {MEDIA}")


if __name__ == "__main__":
    main()

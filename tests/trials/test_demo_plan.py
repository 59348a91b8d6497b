"""The demo pack's analysis plan parses and runs on data shaped like the demo surveys."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from patas.trials import analyze, plan
from patas.trials.assignment import Arms, assign_frame

PLAN = Path(__file__).resolve().parents[2] / "content/hablemos-entre-patas/analysis-plan.yaml"


def demo_data(n: int = 800, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    units = pd.DataFrame(
        {
            "couple": [f"c{i}" for i in range(n)],
            "batch": rng.integers(1, 4, n),
            "stratum": rng.choice(["none", "sexual", "physical"], n, p=[0.6, 0.15, 0.25]),
        }
    )
    data = assign_frame(
        units, "couple", ["batch", "stratum"], Arms.parse("control:1,treatment:1"), 3
    )
    data = data.drop(columns=["stratum"]).assign(
        stratum=units.set_index("couple").loc[data.couple, "stratum"].to_numpy()
    )
    t = (data.arm == "treatment").to_numpy()
    for wave in ("bl", "el"):
        lower = 0.03 * t if wave == "el" else 0
        data[f"p_{wave}_any_physical"] = (rng.random(n) < 0.2 - lower).astype(float)
        data[f"p_{wave}_any_sexual"] = (rng.random(n) < 0.11 - lower).astype(float)
        for q in (
            "ctl_jealous",
            "ctl_phone",
            "ctl_where",
            "psy_humiliate",
            "psy_threat",
            "cyb_messages",
            "cyb_photos",
        ):
            data[f"p_{wave}_{q}"] = rng.integers(1, 6, n)
        for q in ("food", "visits", "her_money", "his_money", "health", "big"):
            data[f"p_{wave}_dec_{q}_shared"] = rng.integers(0, 2, n)
        for q in ("consent_respects", "consent_asks"):
            data[f"p_{wave}_{q}"] = rng.integers(1, 5, n)
        for q in ("com_listens", "com_feelings", "com_solve", "com_respect", "com_day"):
            data[f"p_{wave}_{q}"] = rng.integers(0, 5, n) + t * (wave == "el")
        data[f"m_{wave}_jv_agree"] = rng.integers(0, 6, n)
        data[f"m_{wave}_satisfaction"] = rng.integers(1, 6, n)
        data[f"m_{wave}_mood"] = rng.integers(1, 5, n)
        data[f"m_{wave}_drink_days"] = rng.integers(0, 8, n)
    data["m_bl_age"] = rng.integers(18, 61, n)
    data["completed"] = (t & (rng.random(n) < 0.67)).astype(int)
    responded = rng.random(n) < 0.85
    data["p_el_responded"] = responded.astype(int)
    endline = [
        c for c in data.columns if c.startswith(("p_el_", "m_el_")) and c != "p_el_responded"
    ]
    data.loc[~responded, endline] = np.nan
    return data


def test_demo_plan_runs_on_demo_shaped_data():
    the_plan = plan.load(PLAN)
    assert the_plan.family_map()["primary"] == [
        "any_violence",
        "control_index",
        "consent_index",
        "communication_index",
    ]
    the_plan = the_plan.model_copy(update={"ri": plan.RI(draws=100, seed=1)})
    result = analyze.run(the_plan, demo_data())
    primary = result.estimates[result.estimates.family == "primary"]
    assert len(primary) == 4 and primary.q_value.notna().all()
    assert primary.set_index("outcome").loc["communication_index", "p_value"] < 0.01
    assert len(result.lee) == 1 and len(result.tot) == 4

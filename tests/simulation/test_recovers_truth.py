"""Issue #9: a simulated trial's report covers the true effect (`simulation/truth.py`), not the
`--effect` the latent scores were moved by.

SLOW: one whole simulation of MEN men through the real code (about 4 minutes of CPU at 100
men while `patas simulate` takes ~2 s of CPU per man). MEN is small for now; the issue asks for
2,000 men, to be set here once the simulation is fast enough. With a fixed seed the outcome is
deterministic, but any change to the simulation redraws it: a correct pipeline still misses
the truth for about 1 seed in 20 (`benchmarks/coverage.py` measures the rate over 50 seeds).
"""

import os

import pandas as pd
import pytest

from patas.simulation import outputs
from patas.simulation.runner import Options, Simulation
from patas.simulation.truth import true_effects

MEN = 100  # the 2,000 when the simulation is fast enough
SEED = 1
EFFECT = 0.3

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # About 4 minutes of CPU (24 min wall under load): run with PATAS_SLOW=1, not in CI.
    pytest.mark.skipif(not os.environ.get("PATAS_SLOW"), reason="slow: set PATAS_SLOW=1"),
]


def test_the_primary_estimate_covers_the_true_effect(tmp_path):
    sim = Simulation(Options(men=MEN, seed=SEED, effect=EFFECT))
    sim.run()
    outputs.mark_synthetic(sim)
    outputs.write_trial_report(tmp_path, outputs.summarise(sim, 0.0), None)

    estimates = pd.read_csv(tmp_path / "trial" / "estimates.csv")
    row = estimates[(estimates.outcome == "communication_index") & (estimates.arm == "treatment")]
    assert len(row) == 1
    estimate = row.iloc[0]
    truth = true_effects(EFFECT)["communication_index"]
    # The truth is in the report's units (control-group SDs of the coarsened answers' index):
    # near the latent 0.3, not it.
    assert 0.2 < truth < 0.35
    assert estimate.ci_low <= truth <= estimate.ci_high
    assert estimate.ci_high - estimate.ci_low < 1.0  # an informative interval, not a vacuous one

"""RI survives re-drawn assignments whose coefficient is not identified."""

import numpy as np

from patas.trials import inference


def test_unidentified_draws_are_left_out_of_the_p_value():
    drawn = np.array([0.1, np.nan, -0.5, 0.05, np.nan])
    p, se = inference.ri_pvalue(0.2, drawn)
    assert p == 1 / 3  # only |-0.5| >= 0.2 among the 3 identified draws
    assert se == np.sqrt(p * (1 - p) / 3)


def test_a_singular_draw_gives_nan_not_an_error():
    # Two strata; in the second draw every unit of stratum 1 is treated, so with stratum fixed
    # effects the treatment coefficient of that draw is not identified.
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
    strata = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    draws = np.array([[0, 1, 0, 1, 0, 1, 0, 1], [1, 1, 1, 1, 1, 1, 1, 1]])
    coefs = inference.ri_coefficients(y, draws, 2, strata, np.zeros((8, 0)), False)
    assert np.isfinite(coefs[0]).all()
    assert np.isnan(coefs[1]).all()

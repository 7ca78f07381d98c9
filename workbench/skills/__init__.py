"""The Bayesian skill model: graded response model, scoring, calibration, adaptive testing."""

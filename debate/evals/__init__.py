"""The eval suites that `debate eval` runs over evals/ (calibration, debate, guard replies)."""

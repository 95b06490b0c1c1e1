"""Experiment drivers: one module per experiment, above every layer they use (they may read the profiles)."""

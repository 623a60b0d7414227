"""Analyses over tokenizers and their outputs: token anatomy, diffs, vocabulary health, measures, vocabulary-size
sweeps, replay of a training run, and token budgets."""

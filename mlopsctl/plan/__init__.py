"""The plan model and the offline engine (bottom layer: imports nothing else from mlopsctl)."""

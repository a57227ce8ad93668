"""Shared fixtures: tiny hand-built frames with NaNs and odd dtypes."""

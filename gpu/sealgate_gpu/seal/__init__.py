"""SEAL: self-edits, the inner update and its reward, ReST-EM, and the experiments (docs/results.md)."""

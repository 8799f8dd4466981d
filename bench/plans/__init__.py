"""The built-in experiment plans (`vposebench run --preset NAME`): TOML files, docs/plans.md."""

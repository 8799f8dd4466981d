"""Test helpers, imported as ``from helpers.<module> import ...`` (pytest puts tests/ on sys.path).

The fixture modules (sticks, dataset_writers, synthetic_roots, torch_threads) are registered
once, as plugins, in tests/conftest.py.
"""

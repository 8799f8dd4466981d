"""Backbones and the registered temporal pose methods (registered on import)."""

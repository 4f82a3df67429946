"""The version of gobrs (generated from VERSION by `make version`: do not edit)."""

__version__ = "0.1.0"

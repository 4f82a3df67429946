"""Helpers shared by the gobrs session classes."""

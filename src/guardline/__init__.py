"""Guardline: a self-hosted privacy and security layer for AI customer service."""

__version__ = "0.1.0"

"""Crecer: information and management system for integrated early-childhood-development policies."""

__version__ = "0.1.0"

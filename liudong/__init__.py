"""Liudong (流动): service management for the floating population."""

__version__ = "0.1.0"

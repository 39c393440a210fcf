"""Toy plug-ins that prove a backend or a signal is one file plus one registry line."""

"""Servers nobody here wrote, run for the user as test peers (``simtim peer synapse``)."""

"""Conformance: drive any endpoint and the reference model side by side and compare (DESIGN "cells")."""

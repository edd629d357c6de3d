"""Tests of ``simtim report`` (simtim/report/)."""

"""Drivers: how the harness talks to any endpoint (``Driver.call(Call) -> Reply`` plus events)."""

from simtim.driver.base import Call, Driver, DriverError, EventStream, PushedEvent, Reply

__all__ = ["Call", "Driver", "DriverError", "EventStream", "PushedEvent", "Reply"]

"""simtim: a protocol simulator and load + conformance harness for TIM (Tencent Cloud IM) semantics."""

__version__ = "0.1.0"

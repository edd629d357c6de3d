"""simtim/1: the wire contract (DESIGN "Wire protocol simtim/1") independent of any transport."""

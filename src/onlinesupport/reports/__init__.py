"""Reports managers can trust: figures read from the events (through a rollup that can be
rebuilt from them), with their definitions, charts, exports and the report mail."""

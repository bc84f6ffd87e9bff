"""The `icp` command line: one Typer app (main.py), one module per command group."""

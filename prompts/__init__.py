"""The prompt and interview question files, shipped as package data of the distribution.

No code lives here: the package exists so that ``importlib.resources`` finds the files in any
install (editable, wheel, container image). See README.md in this folder for the formats.
"""

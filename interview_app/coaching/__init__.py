"""Pure coaching logic: the request model, prompts, analysis, question bank, offline texts.

No I/O and no web, network or database imports here (an import-linter contract
checks it): everything above builds on these functions, and tests call them directly.
"""

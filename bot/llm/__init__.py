"""LLM access: prompts as files, one budgeted and retried client, and a factory from Settings.

Import the pieces from their modules (``bot.llm.prompts``, ``bot.llm.client``, ``bot.llm.factory``,
``bot.llm.fake``); this package stays empty so importing one never loads the others.
"""

"""Dramatiq actors: thin wrappers that turn a message into one call of ``sequencer.runtime``.

No business logic lives here (ARCHITECTURE §1). The actors arrive with durable
execution; this package exists so that the layout is fixed from the start.
"""

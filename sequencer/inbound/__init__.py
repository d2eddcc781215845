"""Inbound mail: parse it, say what it is, and find the message it answers.

Pure functions of the raw bytes (and, for return dates, the day it arrived): no store,
no runtime, no network. The runtime's ingestion service stores the result and hands
it to the engine under the enrollment lock (ARCHITECTURE §6). The kinds are defined
in ``../shared/corpus/inbound/README.md`` and ``sequencer.inbound.model``.
"""

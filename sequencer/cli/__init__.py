"""The ``sequencer`` command."""

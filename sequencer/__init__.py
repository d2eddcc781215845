"""sequencer: a self-hosted outreach sequencing engine.

Sequences are YAML files (see docs/sequences.md); the core (``definition``,
``timing``, ``engine``) is pure and plugs into stores, brokers and transports at
the edges.
"""

__version__ = "0.1.0"

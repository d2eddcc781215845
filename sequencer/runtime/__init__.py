"""The runtime: the scheduler loop, the step executor and recovery (ARCHITECTURE §5).

The database is the schedule; the broker only carries work that is due now.
"""

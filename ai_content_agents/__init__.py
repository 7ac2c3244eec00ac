"""ai-content-agents: trend signals for DTC brands → fair ranking → newsletter copy.

Flow: sources → pipeline → ranking → agents → newsletter (see the package layout).
"""

__version__ = "0.1.0"

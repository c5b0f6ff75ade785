"""redflag: a red-flag checker for spinal cord compression and back pain.

Decision support, not a diagnosis and not a medical device.
"""

__version__ = "0.1.0"

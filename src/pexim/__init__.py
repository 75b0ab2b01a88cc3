"""pexim: a mail transfer agent in Python, drop-in compatible with Exim 4.96."""

EXIM_VERSION = "4.96"
__version__ = "0.1.0"

"""Exim-format spool: paths, locking, -D/-H writer and reader, -J journal, msglog.

Byte-compatible with Exim 4.96 so that `exim -bp`, `-Mvh`, `exipick` and a
real exim queue runner can work on a queue pexim wrote, and the other way round.
"""

"""Helpers every app may use, importing no domain app: fast bulk inserts, progress bars, and the
signal by which writes announce that a child's or a pregnancy's facts changed."""

"""WHO LMS reference tables (data only; see README.md in this folder for source and checksums)."""

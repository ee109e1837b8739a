"""Writes and importers of the places the system knows: the territory tree, facilities and organisations.

Their models live in :mod:`crecer.territories`, which every app builds on (users are bound to a
territory); changing them is a right of national managers and administrators, asked of
:mod:`crecer.access.permissions`, so these writes sit above both."""

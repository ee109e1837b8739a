"""Deterministic synthetic country generator (pure Python + numpy, no Django).

``generate(out_dir, children, seed, profile, as_of)`` writes territories, facilities, households,
caregivers, children, relationships and pregnancies as CSV files plus a ``manifest.json`` that marks
everything as synthetic; by default also the trajectories (encounters, measurements, screenings,
service deliveries, parenting groups and their members). See docs/synthetic.md for the model and its assumptions.
"""

from crecer.lib.synthetic.generator import FILES, GENERATOR_VERSION, NOTE, Manifest, generate
from crecer.lib.synthetic.trajectories import TRAJECTORY_FILES

__all__ = ["FILES", "GENERATOR_VERSION", "NOTE", "TRAJECTORY_FILES", "Manifest", "generate"]

"""Pure domain libraries.

Nothing under ``crecer.lib`` may import Django: these modules are tested and benchmarked on their
own, and the Django apps build on them (``crecer.lib`` <- apps <- API/UI).
"""

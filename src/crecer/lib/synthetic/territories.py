"""Synthetic territory tree: one root, then every level of the profile, with fictional place names.

The number of lowest-level territories grows with the number of children (one per ~2,500 children,
at least 4, at most the country's real count); upper levels keep the country's proportions.
Codes are hierarchical: the root is the country code, regions add 2 digits, lower levels 3
(``CL`` → ``CL01`` → ``CL01001``). Rows are in level order, so every parent precedes its children.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from crecer.lib.profiles import Profile
from crecer.lib.synthetic import vocab
from crecer.lib.synthetic.flavours import Flavour

CHILDREN_PER_LOWEST_TERRITORY = 2500
MIN_LOWEST_TERRITORIES = 4
_GENERIC_LOWEST_MAX = 1000
_GENERIC_RATIO = 8  # generic fallback: each level up has 1/8 as many territories


@dataclass(frozen=True)
class Territories:
    """The tree (all rows, level order) and per-lowest-territory attributes used by the generator."""

    codes: list[str]
    names: list[str]
    levels: list[str]
    parent_codes: list[str]
    #: per lowest-level territory (index 0..n_lowest-1)
    lowest_codes: list[str]
    lowest_names: list[str]
    lowest_region: np.ndarray  # index of the level-1 ancestor
    population: np.ndarray  # relative population weight, sums to 1
    rural_share: np.ndarray  # share of households living in rural sectors
    poverty: np.ndarray  # territory effect on household vulnerability (higher = poorer)
    #: per level-1 territory ("region")
    region_codes: list[str]
    region_names: list[str]

    @property
    def n_lowest(self) -> int:
        return len(self.lowest_codes)


def level_counts(children: int, maxima: tuple[int, ...], levels_below_root: int) -> list[int]:
    """Number of territories per level below the root for ``children`` children."""
    if len(maxima) != levels_below_root:
        top = _GENERIC_LOWEST_MAX
        maxima = tuple(max(2, top // _GENERIC_RATIO**i) for i in reversed(range(levels_below_root)))
    lowest = int(np.clip(round(children / CHILDREN_PER_LOWEST_TERRITORY), MIN_LOWEST_TERRITORIES, maxima[-1]))
    counts = [min(m, max(2, round(m * lowest / maxima[-1]))) for m in maxima[:-1]] + [lowest]
    for i in range(1, len(counts)):  # each level at least as many as the one above
        counts[i] = max(counts[i], counts[i - 1])
    for i in reversed(range(len(counts) - 1)):  # …and no more than the one below
        counts[i] = min(counts[i], counts[i + 1])
    return counts


def place_name_pool(country: str) -> list[str]:
    """Every fictional place name the generator can use for a country, in a fixed order."""
    pool: list[str] = []
    for saint in vocab.SAINTS_M:
        pool.extend(f"San {saint} {q}".strip() for q in vocab.PLACE_QUALIFIERS)
    for saint in vocab.SAINTS_F:
        pool.extend(f"Santa {saint} {q}".strip() for q in vocab.PLACE_QUALIFIERS)
    for nature in vocab.NATURE:
        article, _, rest = nature.partition(" ")
        of = {"El": "del", "La": "de la", "Los": "de los", "Las": "de las"}[article]
        pool.extend((nature, f"Villa {nature}", f"Lomas {of} {rest}", f"Valle {of} {rest}", f"Altos {of} {rest}"))
    for noun, gender in vocab.PLACE_NOUNS:
        pool.extend(f"{noun} {adj[0] if gender == 'm' else adj[1]}" for adj in vocab.PLACE_ADJECTIVES)
    heads, tails = vocab.INDIGENOUS.get(country, vocab.INDIGENOUS[vocab.DEFAULT])
    pool.extend(head + tail for head in heads for tail in tails)
    return list(dict.fromkeys(pool))


def region_name_pool() -> list[str]:
    return [
        f"{noun} {adj[0] if gender == 'm' else adj[1]}"
        for noun, gender in vocab.REGION_NOUNS
        for adj in vocab.REGION_ADJECTIVES
    ]


def _pick(rng: np.random.Generator, pool: list[str], n: int) -> list[str]:
    """``n`` distinct names from ``pool`` (numbered repeats if the pool is too small)."""
    if n <= len(pool):
        return [pool[i] for i in rng.choice(len(pool), size=n, replace=False).tolist()]
    order = rng.permutation(n) % len(pool)
    return [pool[i] if k < len(pool) else f"{pool[i]} {k // len(pool) + 1}" for k, i in enumerate(order.tolist())]


def build(rng: np.random.Generator, profile: Profile, flavour: Flavour, children: int) -> Territories:
    """Draw the territory tree for ``children`` children."""
    keys = profile.level_keys
    counts = level_counts(children, flavour.territory_max, len(keys) - 1)

    # parent index (within the level above) of every territory, level by level
    parents: list[np.ndarray] = [np.zeros(counts[0], dtype=np.int64)]
    for above, below in itertools.pairwise(counts):
        weight = rng.lognormal(0.0, 0.5, size=above)
        per_parent = 1 + rng.multinomial(below - above, weight / weight.sum())
        parents.append(np.repeat(np.arange(above), per_parent))

    region_names = _pick(rng, region_name_pool(), counts[0])
    other_names = _pick(rng, place_name_pool(flavour.country), sum(counts[1:]))

    root = flavour.country
    codes: list[str] = [root]
    names: list[str] = [flavour.country_name]
    levels: list[str] = [keys[0]]
    parent_codes: list[str] = [""]
    level_codes = [root]
    used = 0
    for depth, (count, parent) in enumerate(zip(counts, parents, strict=True), start=1):
        first_of_parent = np.searchsorted(parent, parent, side="left")
        seq = (np.arange(count) - first_of_parent + 1).tolist()
        width = max(2 if depth == 1 else 3, len(str(max(seq))))
        new_codes = [f"{level_codes[p]}{s:0{width}d}" for p, s in zip(parent.tolist(), seq, strict=True)]
        if depth == 1:
            new_names = region_names
        else:
            new_names, used = other_names[used : used + count], used + count
        codes += new_codes
        names += new_names
        levels += [keys[depth]] * count
        parent_codes += [level_codes[p] for p in parent.tolist()]
        level_codes = new_codes

    # ancestors at level 1 of each lowest territory
    region = np.arange(counts[-1])
    for parent in reversed(parents[1:]):
        region = parent[region]

    n_low = counts[-1]
    population = rng.lognormal(0.0, 0.9, size=n_low)
    population /= population.sum()
    relative = population / np.median(population)
    rural_share = np.clip(0.75 / (1.0 + relative**1.1), 0.02, 0.9)
    region_effect = rng.normal(0.0, 0.3, size=counts[0])
    poverty = region_effect[region] + rng.normal(0.0, 0.45, size=n_low) + 0.8 * (rural_share - rural_share.mean())

    return Territories(
        codes=codes,
        names=names,
        levels=levels,
        parent_codes=parent_codes,
        lowest_codes=level_codes,
        lowest_names=names[-n_low:],
        lowest_region=region,
        population=population,
        rural_share=rural_share,
        poverty=poverty,
        region_codes=codes[1 : 1 + counts[0]],
        region_names=region_names,
    )

"""Country flavours: the parameters that make synthetic data look like one country or another.

A flavour is chosen by the profile's ``country`` code; unknown countries fall back to a generic
flavour (Chile-like names, generic territory maxima). All figures are assumptions for synthetic data,
rounded from public statistics; they are documented in docs/synthetic.md.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Flavour:
    country: str
    country_name: str
    #: realistic number of territories per level below the root (region, …, lowest)
    territory_max: tuple[int, ...]
    #: share of mothers who are migrants identified by a passport
    migrant_share: float
    #: multiplier on the weight of adolescent ages at first birth (1.0 = Chile-like)
    teen_factor: float
    #: mean schooling years of mothers (before socio-economic adjustment)
    schooling_mean: float
    #: probability that a simple first name gets a second name, for children and adults
    second_name_child: float
    second_name_adult: float
    #: facility name templates by kind: [0] one in a lowest territory (``{t}`` its name), [1] one serving a
    #: region from its capital (``{r}`` the region's name), [2:] further ones (``{s}`` a place/street name)
    facility_names: dict[str, tuple[str, ...]]
    #: urban address patterns: (template, weight, max house number); ``{s}`` a street name, ``{n}`` the number
    street_patterns: tuple[tuple[str, float, int], ...]
    #: rural address patterns; ``{s}`` a sector/street name, ``{p}`` a place name, ``{k}``/``{n}`` numbers
    rural_patterns: tuple[str, ...]
    #: suffixes appended to some urban addresses (apartment); ``{n}`` a number
    urban_suffixes: tuple[str, ...]


_COMMON_FACILITIES: dict[str, tuple[str, ...]] = {
    "health_centre": ("Centro de Salud {t}", "Centro de Salud {r}", "Centro de Salud {s}"),
    "hospital": ("Hospital de {t}", "Hospital Regional {r}", "Hospital {s}"),
    "school": ("Escuela Básica {t}", "Escuela {r}", "Escuela {s}", "Colegio {s}"),
    "childcare_centre": ("Centro Infantil {t}", "Centro Infantil {r}", "Centro Infantil {s}"),
    "municipal_office": ("Municipalidad de {t}", "Municipalidad de {t}"),
    "social_service": ("Departamento Social de {t}", "Servicio Social {r}"),
    "child_protection_office": ("Oficina de Protección de {t}", "Oficina de Protección {r}"),
    "civil_registry": ("Registro Civil de {t}", "Registro Civil {r}"),
    "housing_office": ("Oficina de Vivienda de {t}", "Dirección de Vivienda {r}"),
    "employment_office": ("Oficina de Empleo de {t}", "Dirección de Empleo {r}"),
}

FLAVOURS: dict[str, Flavour] = {
    "CL": Flavour(
        country="CL",
        country_name="Chile (sintético)",
        territory_max=(16, 345),
        migrant_share=0.05,
        teen_factor=1.0,
        schooling_mean=12.0,
        second_name_child=0.8,
        second_name_adult=0.75,
        facility_names={
            **_COMMON_FACILITIES,
            "health_centre": ("CESFAM {t}", "CESFAM {r}", "CESFAM {s}", "CECOSF {s}"),
            "school": ("Escuela Básica {t}", "Liceo {r}", "Escuela {s}", "Colegio {s}"),
            "childcare_centre": ("Jardín Infantil {t}", "Jardín Infantil {r}", "Jardín Infantil {s}", "Sala Cuna {s}"),
            "child_protection_office": ("OPD {t}", "OPD {r}"),
            "housing_office": ("Oficina Municipal de Vivienda {t}", "SERVIU {r}"),
            "employment_office": ("OMIL {t}", "SENCE {r}"),
            "social_service": ("DIDECO {t}", "SEREMI Desarrollo Social {r}"),
        },
        street_patterns=(("Pasaje {s} {n}", 0.35, 999), ("Calle {s} {n}", 0.35, 3999), ("Av. {s} {n}", 0.3, 9999)),
        rural_patterns=("Sector {s}, km {k}", "Parcela {n}, Sector {s}", "Camino a {p}, km {k}"),
        urban_suffixes=(", depto {n}", ", block {b} depto {n}"),
    ),
    "PE": Flavour(
        country="PE",
        country_name="Perú (sintético)",
        territory_max=(25, 196, 1890),
        migrant_share=0.02,
        teen_factor=1.35,
        schooling_mean=10.5,
        second_name_child=0.45,
        second_name_adult=0.5,
        facility_names={
            **_COMMON_FACILITIES,
            "health_centre": (
                "Centro de Salud {t}",
                "Centro de Salud {r}",
                "Puesto de Salud {s}",
                "Centro de Salud {s}",
            ),
            "childcare_centre": ("Cuna Más {t}", "Cuna Más {r}", "Cuna Más {s}", "Centro de Cuidado Diurno {s}"),
            "child_protection_office": ("DEMUNA {t}", "DEMUNA {r}"),
            "civil_registry": ("Registro Civil de {t}", "RENIEC {r}"),
            "employment_office": ("Centro de Empleo {t}", "Centro de Empleo {r}"),
        },
        street_patterns=(
            ("Jr. {s} {n}", 0.35, 1999),
            ("Calle {s} {n}", 0.25, 999),
            ("Av. {s} {n}", 0.25, 4999),
            ("Psje. {s} {n}", 0.15, 299),
        ),
        rural_patterns=("Caserío {p}", "Comunidad Campesina {p}, sector {s}", "Anexo {p}, lote {n}"),
        urban_suffixes=(", dpto {n}", ", Mz. {b} Lt. {n}"),
    ),
    "SV": Flavour(
        country="SV",
        country_name="El Salvador (sintético)",
        territory_max=(14, 44, 262),
        migrant_share=0.01,
        teen_factor=1.6,
        schooling_mean=9.0,
        second_name_child=0.6,
        second_name_adult=0.6,
        facility_names={
            **_COMMON_FACILITIES,
            "health_centre": ("UCSF {t}", "UCSF {r}", "UCSF {s}", "Unidad Comunitaria de Salud Familiar {s}"),
            "childcare_centre": ("CAPI {t}", "CAPI {r}", "CAPI {s}", "Centro de Desarrollo Infantil {s}"),
            "child_protection_office": ("Junta de Protección de la Niñez {t}", "Junta de Protección de la Niñez {r}"),
            "municipal_office": ("Alcaldía de {t}", "Alcaldía de {t}"),
            "civil_registry": ("Registro del Estado Familiar de {t}", "Registro del Estado Familiar {r}"),
        },
        street_patterns=(
            ("Calle {s} #{n}", 0.35, 999),
            ("Pasaje {s}, casa {n}", 0.3, 99),
            ("Avenida {s} #{n}", 0.2, 999),
            ("Colonia {s}, casa {n}", 0.15, 99),
        ),
        rural_patterns=("Cantón {p}, caserío {s}", "Caserío {s}, cantón {p}", "Cantón {p}, km {k}"),
        urban_suffixes=(", local {n}", ", polígono {b}"),
    ),
}


def flavour_for(country: str) -> Flavour:
    """The flavour of ``country``; a generic Chile-like one for countries without their own."""
    if country in FLAVOURS:
        return FLAVOURS[country]
    base = FLAVOURS["CL"]
    return replace(base, country=country, country_name=f"{country} (sintético)", territory_max=())


@dataclass(frozen=True)
class CareFlavour:
    """Parameters of the synthetic trajectories (check-ups, growth, anaemia) of one country.

    Growth is drawn as WHO z-scores: a child's long-term length/height-for-age level is normal with
    ``haz_mean``/``haz_sd`` and drifts by ``haz_falter`` (mean) from birth to 2 years (growth
    faltering); weight-for-length/height and BMI-for-age levels are normal with ``whz_mean``/``whz_sd``.
    Haemoglobin is normal around the age's anaemia threshold plus ``hb_margin`` g/L, measured at the
    check-ups nearest to ``hb_ages`` (days) with probability ``hb_share``. All figures are
    ASSUMPTIONS rounded from public survey figures (see docs/synthetic.md).
    """

    haz_mean: float
    haz_sd: float
    haz_falter: float
    whz_mean: float
    whz_sd: float
    hb_margin: float
    hb_ages: tuple[int, ...]
    hb_share: float
    #: added to every child's log-odds of attending a check-up
    attendance_shift: float = 0.0


CARE_FLAVOURS: dict[str, CareFlavour] = {
    # Chile: stunting ~2–4%, wasting ~1%, overweight ~10% under 5; anaemia ~10%
    "CL": CareFlavour(
        haz_mean=-0.05,
        haz_sd=1.05,
        haz_falter=-0.1,
        whz_mean=0.65,
        whz_sd=1.15,
        hb_margin=11.5,
        hb_ages=(365,),
        hb_share=0.6,
    ),
    # Peru: stunting ~12%, overweight ~8%, anaemia 35–40%, haemoglobin measured often (6 to 24 months)
    "PE": CareFlavour(
        haz_mean=-0.5,
        haz_sd=1.05,
        haz_falter=-0.8,
        whz_mean=0.55,
        whz_sd=1.05,
        hb_margin=2.0,
        hb_ages=(183, 365, 548, 730),
        hb_share=0.85,
        attendance_shift=-0.2,
    ),
    # El Salvador: stunting ~10%, overweight ~6%, wasting ~1.5%, anaemia ~25%
    "SV": CareFlavour(
        haz_mean=-0.55,
        haz_sd=1.05,
        haz_falter=-0.55,
        whz_mean=0.4,
        whz_sd=1.15,
        hb_margin=5.0,
        hb_ages=(183, 365),
        hb_share=0.75,
        attendance_shift=-0.1,
    ),
}


def care_flavour_for(country: str) -> CareFlavour:
    """The trajectory parameters of ``country``; Chile-like for countries without their own."""
    return CARE_FLAVOURS.get(country, CARE_FLAVOURS["CL"])

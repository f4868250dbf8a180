"""How often, when and where each kind of incident happens in the demo city.

Orders of magnitude follow the seeds: KOD with up to 45 field staff a day in two shifts
(06–14, 14–22, no night shift), police around the clock; hotspots at the places named in
the press (Westenhellweg, Platz von Leeds, Nordmarkt, Hauptbahnhof, Keuningpark,
Münsterstraße, Brückstraßenviertel). Rates are per year at scale 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# --- time ---------------------------------------------------------------------------------

_H = {
    #            0  1  2  3  4  5  6  7  8  9 10 11 12 13 14 15 16 17 18 19 20 21 22 23
    "day":      [1, 1, 1, 1, 1, 2, 4, 6, 8, 10, 11, 12, 12, 12, 11, 10, 9, 8, 6, 5, 4, 3, 2, 1],
    "shopping": [0, 0, 0, 0, 0, 0, 1, 2, 4, 7, 10, 12, 13, 13, 13, 13, 12, 11, 9, 6, 3, 2, 1, 0.5],
    "evening":  [4, 3, 2, 1, 1, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 14, 12, 9, 6],
    "night":    [10, 9, 7, 5, 3, 1, 1, 1, 1, 1, 2, 3, 3, 4, 4, 5, 6, 7, 8, 10, 12, 13, 13, 12],
    "dogs":     [0, 0, 0, 0, 0, 2, 8, 10, 7, 4, 3, 3, 3, 3, 3, 4, 6, 8, 9, 8, 6, 3, 1, 0],
    "flat":     [2, 2, 1, 1, 1, 2, 4, 5, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 5, 4, 3],
}  # fmt: skip
HOUR_PROFILES = {name: np.array(weights, dtype=float) for name, weights in _H.items()}

# Monday … Sunday
WEEKDAY_PROFILES = {
    "normal": np.array([0.9, 0.95, 1.0, 1.0, 1.15, 1.2, 0.8]),
    "weekend": np.array([0.7, 0.7, 0.8, 0.95, 1.35, 1.6, 0.9]),
    "workday": np.array([1.1, 1.1, 1.1, 1.1, 1.05, 0.9, 0.5]),
}

KOD_HOURS = (6, 22)  # two shifts, no night shift


# --- places ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hotspot:
    """A place where incidents concentrate: a place point with Gaussian scatter, or an area."""

    place: str = ""
    area: str = ""
    sigma_m: float = 50.0


HOTSPOTS: dict[str, Hotspot] = {
    "westenhellweg": Hotspot(area="westenhellweg", sigma_m=20),
    "ostenhellweg": Hotspot(place="Ostenhellweg", sigma_m=50),
    "kampstrasse": Hotspot(place="Kampstraße", sigma_m=60),
    "platz-von-leeds": Hotspot(place="Platz von Leeds", sigma_m=35),
    "kick": Hotspot(place="Drogenkonsumraum Kick", sigma_m=40),
    "stadtgarten": Hotspot(place="Stadtgarten", sigma_m=70),
    "hauptbahnhof": Hotspot(place="Hauptbahnhof", sigma_m=55),
    "brueckstrasse": Hotspot(area="brueckstrassenviertel", sigma_m=20),
    "koenigswall": Hotspot(place="Königswall", sigma_m=80),
    "ostwall": Hotspot(place="Ostwall", sigma_m=80),
    "nordmarkt": Hotspot(place="Nordmarkt", sigma_m=45),
    "keuningpark": Hotspot(area="keuningpark", sigma_m=20),
    "muensterstrasse": Hotspot(area="muensterstrasse", sigma_m=20),
    "schleswiger": Hotspot(place="Schleswiger Straße", sigma_m=50),
    "mallinckrodt": Hotspot(place="Mallinckrodtstraße", sigma_m=60),
    "borsigplatz": Hotspot(place="Borsigplatz", sigma_m=60),
    "hafen": Hotspot(place="Hafen", sigma_m=80),
    "westpark": Hotspot(place="Westpark", sigma_m=70),
    "dortmunder-u": Hotspot(place="Dortmunder U", sigma_m=50),
    "phoenix-see": Hotspot(place="Phoenix-See", sigma_m=80),
    "hoerde": Hotspot(place="Hörder Bahnhof", sigma_m=70),
}
BACKGROUND = "background"

# Background: uniform within a district, districts weighted towards the centre.
DISTRICT_WEIGHTS = {
    "01": 0.22, "02": 0.22, "03": 0.10, "04": 0.05, "05": 0.05, "06": 0.05, "07": 0.05,
    "08": 0.07, "09": 0.05, "10": 0.05, "11": 0.05, "12": 0.04,
}  # fmt: skip

# Displacement after the Wallring operation: the streets just outside the ring, the
# station forecourt, southern Nordstadt and the Kreuzviertel (area code, weight).
DISPLACEMENT_ZONES = [
    ("pz-city", 0.35),
    ("hauptbahnhof", 0.2),
    ("pz-nordstadt-sued", 0.3),
    ("pz-kreuzviertel", 0.15),
]
DISPLACED_CATEGORIES = (
    "drug-consumption-public",
    "aggressive-begging",
    "antisocial-behaviour",
    "camping",
    "drug-dealing",
)
DISPLACEMENT_PEAK = 0.7  # extra incidents in the zones, as a share of the former Wallring level
DISPLACEMENT_DECAY_DAYS = 21
WALLRING_RELIEF = 0.4  # the Wallring itself stays calmer for a while after the operation
WALLRING_RELIEF_DECAY_DAYS = 35


# --- categories ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    rate: dict[str, float]  # incidents per year per authority code
    hours: str
    weekdays: str
    season: float  # amplitude of the summer peak
    places: dict[str, float]
    kod_measures: dict[str, float] = field(default_factory=dict)  # probability per incident
    needs_measure: bool = True  # an officer met a person; otherwise a bare observation is fine
    citizen_share: float = 0.05
    texts: tuple[str, ...] = ()


PROFILES: dict[str, Profile] = {
    "drug-consumption-public": Profile(
        rate={"stadt": 5000, "polizei": 2000},
        hours="evening",
        weekdays="normal",
        season=0.25,
        places={
            "platz-von-leeds": 0.18,
            "kick": 0.1,
            "stadtgarten": 0.1,
            "hauptbahnhof": 0.07,
            "nordmarkt": 0.12,
            "keuningpark": 0.12,
            "muensterstrasse": 0.05,
            "brueckstrasse": 0.04,
            "westpark": 0.03,
            BACKGROUND: 0.19,
        },
        kod_measures={
            "dispersal_order": 0.6,
            "offence_report": 0.45,
            "referral": 0.12,
            "contact": 0.25,
            "seizure": 0.02,
        },
        texts=(
            "Person konsumiert Crack im Hauseingang.",
            "Konsum von Betäubungsmitteln auf einer Parkbank.",
            "Mehrere Personen in erkennbarem Rauschzustand in der Grünanlage.",
            "Spritzenbesteck und Konsum im Treppenaufgang.",
        ),
    ),
    "aggressive-begging": Profile(
        rate={"stadt": 2600, "polizei": 300},
        hours="shopping",
        weekdays="normal",
        season=0.15,
        places={
            "westenhellweg": 0.38,
            "kampstrasse": 0.08,
            "ostenhellweg": 0.08,
            "hauptbahnhof": 0.14,
            "platz-von-leeds": 0.06,
            "brueckstrasse": 0.04,
            "hoerde": 0.04,
            BACKGROUND: 0.18,
        },
        kod_measures={
            "dispersal_order": 0.55,
            "offence_report": 0.35,
            "caution_fee": 0.15,
            "contact": 0.3,
            "referral": 0.03,
        },
        texts=(
            "Passanten werden festgehalten und bedrängt.",
            "Person verfolgt Passantinnen und fordert Geld.",
            "Bedrängendes Ansprechen vor dem Kaufhauseingang.",
        ),
    ),
    "antisocial-behaviour": Profile(
        rate={"stadt": 4500, "polizei": 1300},
        hours="evening",
        weekdays="weekend",
        season=0.2,
        places={
            "platz-von-leeds": 0.1,
            "hauptbahnhof": 0.1,
            "brueckstrasse": 0.1,
            "nordmarkt": 0.1,
            "keuningpark": 0.08,
            "westenhellweg": 0.08,
            "stadtgarten": 0.06,
            "borsigplatz": 0.04,
            BACKGROUND: 0.34,
        },
        kod_measures={"contact": 0.5, "dispersal_order": 0.45, "offence_report": 0.3, "caution_fee": 0.15},
        citizen_share=0.15,
        texts=(
            "Gruppe pöbelt Passanten an.",
            "Lautstarker Streit einer Personengruppe.",
            "Alkoholisierte Personen blockieren den Eingang.",
            "Personengruppe belästigt Reisende.",
        ),
    ),
    "camping": Profile(
        rate={"stadt": 1800, "polizei": 150},
        hours="day",
        weekdays="normal",
        season=0.3,
        places={
            "hauptbahnhof": 0.12,
            "westenhellweg": 0.1,
            "kampstrasse": 0.06,
            "stadtgarten": 0.1,
            "platz-von-leeds": 0.06,
            "dortmunder-u": 0.05,
            "keuningpark": 0.06,
            BACKGROUND: 0.45,
        },
        kod_measures={"contact": 0.65, "dispersal_order": 0.35, "referral": 0.3, "offence_report": 0.1},
        citizen_share=0.2,
        texts=(
            "Nachtlager mit Matratze im Ladeneingang.",
            "Zelt in der Grünanlage.",
            "Person liegt mit Schlafsack im Durchgang.",
        ),
    ),
    "dog-off-leash": Profile(
        rate={"stadt": 2600},
        hours="dogs",
        weekdays="normal",
        season=0.25,
        places={
            "westpark": 0.12,
            "stadtgarten": 0.08,
            "phoenix-see": 0.1,
            "keuningpark": 0.08,
            "hafen": 0.05,
            BACKGROUND: 0.57,
        },
        kod_measures={"contact": 0.6, "caution_fee": 0.35, "offence_report": 0.15},
        texts=(
            "Großer Hund ohne Leine in der Fußgängerzone.",
            "Hund freilaufend in der Parkanlage.",
            "Hund ohne Leine auf dem Spielplatz.",
        ),
    ),
    "littering": Profile(
        rate={"stadt": 4000},
        hours="day",
        weekdays="normal",
        season=0.3,
        places={
            "westenhellweg": 0.15,
            "platz-von-leeds": 0.05,
            "hauptbahnhof": 0.08,
            "nordmarkt": 0.06,
            "brueckstrasse": 0.06,
            "phoenix-see": 0.05,
            BACKGROUND: 0.55,
        },
        kod_measures={"caution_fee": 0.55, "offence_report": 0.2, "contact": 0.3},
        texts=(
            "Zigarettenkippe weggeworfen.",
            "Verpackungsmüll auf den Gehweg geworfen.",
            "Kaffeebecher in die Grünanlage geworfen.",
        ),
    ),
    "waste-dumping": Profile(
        rate={"stadt": 3500},
        hours="day",
        weekdays="workday",
        season=0.1,
        places={
            "nordmarkt": 0.05,
            "muensterstrasse": 0.06,
            "schleswiger": 0.06,
            "mallinckrodt": 0.06,
            "borsigplatz": 0.06,
            BACKGROUND: 0.71,
        },
        kod_measures={"offence_report": 0.45, "contact": 0.15},
        needs_measure=False,
        citizen_share=0.45,
        texts=(
            "Sperrmüll am Straßenrand abgestellt.",
            "Müllsäcke neben den Depotcontainern.",
            "Bauschutt in der Grünanlage abgeladen.",
            "Altreifen auf dem Parkplatz entsorgt.",
        ),
    ),
    "youth-protection": Profile(
        rate={"stadt": 600},
        hours="evening",
        weekdays="weekend",
        season=0.2,
        places={"brueckstrasse": 0.15, "westenhellweg": 0.1, "phoenix-see": 0.05, BACKGROUND: 0.7},
        kod_measures={"contact": 0.6, "offence_report": 0.4, "seizure": 0.2},
        texts=(
            "Kiosk verkauft Alkohol an Minderjährige.",
            "Jugendliche trinken Alkohol, Abgabe durch Erwachsene.",
            "Minderjährige in der Spielhalle angetroffen.",
        ),
    ),
    "street-prostitution": Profile(
        rate={"stadt": 500},
        hours="night",
        weekdays="normal",
        season=0.1,
        places={"schleswiger": 0.25, "mallinckrodt": 0.25, "nordmarkt": 0.1, "hafen": 0.1, BACKGROUND: 0.3},
        kod_measures={"dispersal_order": 0.6, "offence_report": 0.5, "referral": 0.05},
        texts=("Anbahnung im Sperrbezirk.", "Verbotene Straßenprostitution beobachtet."),
    ),
    "graffiti": Profile(
        rate={"stadt": 700, "polizei": 100},
        hours="night",
        weekdays="weekend",
        season=0.1,
        places={"hafen": 0.05, "dortmunder-u": 0.05, "brueckstrasse": 0.1, BACKGROUND: 0.8},
        kod_measures={"criminal_complaint": 0.35, "contact": 0.1},
        needs_measure=False,
        citizen_share=0.35,
        texts=(
            "Neue Schmierereien an der Hauswand.",
            "Graffiti am Brückenpfeiler.",
            "Tag an der Haltestelle.",
        ),
    ),
    "illegal-posters": Profile(
        rate={"stadt": 600},
        hours="day",
        weekdays="workday",
        season=0.05,
        places={"westenhellweg": 0.1, "brueckstrasse": 0.1, BACKGROUND: 0.8},
        kod_measures={"offence_report": 0.45, "caution_fee": 0.3, "contact": 0.2},
        needs_measure=False,
        citizen_share=0.2,
        texts=("Wilde Plakatierung an Stromkästen.", "Plakate an Lichtmasten ohne Genehmigung."),
    ),
    "neglected-property": Profile(
        rate={"stadt": 300},
        hours="day",
        weekdays="workday",
        season=0.0,
        places={"muensterstrasse": 0.1, "schleswiger": 0.1, BACKGROUND: 0.8},
        kod_measures={"contact": 0.3},
        needs_measure=False,
        citizen_share=0.6,
        texts=("Verwahrlostes Grundstück, Müll und Ratten.", "Leerstehendes Haus, Zugang offen."),
    ),
    "illegal-trade": Profile(
        rate={"stadt": 500},
        hours="shopping",
        weekdays="normal",
        season=0.15,
        places={
            "westenhellweg": 0.3,
            "hauptbahnhof": 0.15,
            "muensterstrasse": 0.15,
            "nordmarkt": 0.1,
            BACKGROUND: 0.3,
        },
        kod_measures={"offence_report": 0.6, "seizure": 0.3, "dispersal_order": 0.25},
        texts=("Straßenverkauf ohne Reisegewerbekarte.", "Verkauf von Zigaretten aus dem Rucksack."),
    ),
    "public-urination": Profile(
        rate={"stadt": 1500},
        hours="night",
        weekdays="weekend",
        season=0.25,
        places={
            "brueckstrasse": 0.25,
            "hauptbahnhof": 0.15,
            "westenhellweg": 0.1,
            "platz-von-leeds": 0.1,
            BACKGROUND: 0.4,
        },
        kod_measures={"caution_fee": 0.6, "offence_report": 0.3, "contact": 0.1},
        texts=("Person uriniert an die Hauswand.", "Wildpinkeln im Hauseingang."),
    ),
    "alcohol-playground": Profile(
        rate={"stadt": 700},
        hours="evening",
        weekdays="weekend",
        season=0.35,
        places={"keuningpark": 0.2, "nordmarkt": 0.15, "stadtgarten": 0.1, "westpark": 0.1, BACKGROUND: 0.45},
        kod_measures={"dispersal_order": 0.5, "caution_fee": 0.35, "contact": 0.3},
        texts=("Alkoholkonsum auf dem Spielplatz.", "Erwachsene trinken Alkohol am Klettergerüst."),
    ),
    "pigeon-feeding": Profile(
        rate={"stadt": 300},
        hours="day",
        weekdays="normal",
        season=0.1,
        places={
            "westenhellweg": 0.25,
            "platz-von-leeds": 0.15,
            "hauptbahnhof": 0.1,
            "nordmarkt": 0.1,
            BACKGROUND: 0.4,
        },
        kod_measures={"caution_fee": 0.3, "contact": 0.7},
        texts=("Tauben werden mit Brot gefüttert.",),
    ),
    "street-furniture-misuse": Profile(
        rate={"stadt": 800},
        hours="day",
        weekdays="normal",
        season=0.2,
        places={
            "westenhellweg": 0.3,
            "platz-von-leeds": 0.15,
            "hauptbahnhof": 0.15,
            "stadtgarten": 0.05,
            BACKGROUND: 0.35,
        },
        kod_measures={"contact": 0.55, "caution_fee": 0.3, "dispersal_order": 0.25},
        texts=("Brunnen als Badestelle genutzt.", "Sitzbänke mit Hausrat belegt."),
    ),
    "noise": Profile(
        rate={"stadt": 1200},
        hours="night",
        weekdays="weekend",
        season=0.3,
        places={"brueckstrasse": 0.2, "westpark": 0.1, "phoenix-see": 0.1, "hafen": 0.05, BACKGROUND: 0.55},
        kod_measures={"contact": 0.65, "caution_fee": 0.3, "offence_report": 0.15},
        citizen_share=0.5,
        texts=("Laute Musik aus einem Fahrzeug.", "Lärm einer Personengruppe in der Grünanlage."),
    ),
    "blind-guidance-obstruction": Profile(
        rate={"stadt": 400},
        hours="day",
        weekdays="workday",
        season=0.05,
        places={"westenhellweg": 0.3, "hauptbahnhof": 0.1, BACKGROUND: 0.6},
        kod_measures={"contact": 0.5, "caution_fee": 0.5},
        texts=(
            "E-Scooter auf dem Blindenleitsystem abgestellt.",
            "Werbeaufsteller blockiert das Leitsystem.",
        ),
    ),
    "drug-dealing": Profile(
        rate={"polizei": 2000},
        hours="evening",
        weekdays="normal",
        season=0.15,
        places={
            "platz-von-leeds": 0.14,
            "stadtgarten": 0.08,
            "kick": 0.05,
            "hauptbahnhof": 0.1,
            "nordmarkt": 0.15,
            "keuningpark": 0.12,
            "muensterstrasse": 0.1,
            "brueckstrasse": 0.08,
            "schleswiger": 0.04,
            BACKGROUND: 0.14,
        },
        texts=(
            "Handel mit Crack beobachtet.",
            "Übergabe von Kleinstmengen, Dealer flüchtet.",
            "Bunker in der Grünanlage aufgefunden.",
        ),
    ),
    "violence": Profile(
        rate={"polizei": 1100},
        hours="night",
        weekdays="weekend",
        season=0.2,
        places={
            "brueckstrasse": 0.15,
            "hauptbahnhof": 0.15,
            "nordmarkt": 0.1,
            "muensterstrasse": 0.1,
            "westenhellweg": 0.06,
            "platz-von-leeds": 0.06,
            BACKGROUND: 0.38,
        },
        texts=(
            "Körperverletzung nach Streit.",
            "Schlägerei zwischen zwei Gruppen.",
            "Raub mit Gewaltanwendung.",
        ),
    ),
    "weapons": Profile(
        rate={"polizei": 200},
        hours="night",
        weekdays="weekend",
        season=0.1,
        places={
            "brueckstrasse": 0.15,
            "hauptbahnhof": 0.15,
            "muensterstrasse": 0.15,
            "nordmarkt": 0.12,
            "platz-von-leeds": 0.08,
            BACKGROUND: 0.35,
        },
        texts=(
            "Messer bei Kontrolle aufgefunden.",
            "Verstoß gegen das Waffenverbot.",
            "Schreckschusswaffe mitgeführt.",
        ),
    ),
    "street-crime": Profile(
        rate={"polizei": 800},
        hours="evening",
        weekdays="weekend",
        season=0.1,
        places={
            "westenhellweg": 0.15,
            "hauptbahnhof": 0.15,
            "brueckstrasse": 0.1,
            "kampstrasse": 0.05,
            "muensterstrasse": 0.08,
            BACKGROUND: 0.47,
        },
        texts=("Taschendiebstahl.", "Fahrraddiebstahl beobachtet.", "Sachbeschädigung an einem Pkw."),
    ),
    "illegal-car-race": Profile(
        rate={"polizei": 50},
        hours="night",
        weekdays="weekend",
        season=0.4,
        places={"koenigswall": 0.15, "ostwall": 0.15, "phoenix-see": 0.05, BACKGROUND: 0.65},
        texts=("Verbotenes Kraftfahrzeugrennen auf dem Wall.", "Zwei Fahrzeuge liefern sich ein Rennen."),
    ),
    "other": Profile(
        rate={"stadt": 1000, "polizei": 1600},
        hours="day",
        weekdays="normal",
        season=0.1,
        places={
            "westenhellweg": 0.15,
            "platz-von-leeds": 0.1,
            "nordmarkt": 0.1,
            "hauptbahnhof": 0.1,
            "keuningpark": 0.05,
            BACKGROUND: 0.5,
        },
        kod_measures={"contact": 0.85},
        texts=(
            "Bürgergespräch zur Sicherheitslage.",
            "Hinweis von Anwohnern aufgenommen.",
            "Ansprache von Gewerbetreibenden.",
        ),
    ),
}

SEIZURE_KIND = {
    "weapons": "weapon",
    "drug-dealing": "drugs",
    "drug-consumption-public": "drugs",
    "illegal-car-race": "other",
    "illegal-trade": "other",
    "youth-protection": "other",
}
REFERRAL_SERVICE = {
    "drug-consumption-public": "addiction_help",
    "camping": "shelter",
    "aggressive-begging": "street_social_work",
    "street-prostitution": "street_social_work",
}
DRUG_CATEGORIES = ("drug-consumption-public", "drug-dealing")

# Age groups of persons (pseudonymous); about 20 % of drug suspects are under 21 (seed).
AGE_GROUPS = ("", "u14", "14-17", "18-20", "21+")
AGE_WEIGHTS_DRUGS = np.array([0.0, 0.0, 0.07, 0.13, 0.80])
AGE_WEIGHTS_OTHER = np.array([0.06, 0.02, 0.10, 0.10, 0.72])

PERSON_MEASURES = ("dispersal_order", "exclusion_order", "caution_fee", "offence_report",
                   "criminal_complaint", "custody", "referral", "seizure")  # fmt: skip
PERSON_SHARE = 0.4  # share of incidents with such measures that name a (pseudonymous) person

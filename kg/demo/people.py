"""The demo world's people: personas (user segments and what they like), looks, first names,
cities.

Plain data like :mod:`kg.demo.vocabulary`; a persona names the leaves its members like by
their category slugs, a look the colours its fans pick when they can see them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Persona:
    """A user segment: a name, the leaves its members like, and how its bios read."""

    name: str
    leaves: tuple[str, ...]
    bios: tuple[str, ...]


# fmt: off
PERSONAS: tuple[Persona, ...] = (
    Persona("runners",
          ("running-shoes", "running-socks", "sports-watches", "water-bottles", "yoga-mats"),
          ("Marathoner in training", "Chasing PBs", "Trail runner and early riser",
          "Run club regular")),
    Persona("skincare fans", ("moisturisers", "cleansers", "serums", "sunscreens", "lipsticks"),
          ("Skincare nerd", "SPF every day", "Glowing since 1995", "Clean beauty lover")),
    Persona("home cooks", ("coffee-makers", "coffee-beans", "mugs", "knives", "cookware"),
          ("Home cook and coffee snob", "Sunday baker", "Espresso addict", "Cast iron fan")),
    Persona("gamers", ("gaming-mice", "keyboards", "controllers", "headphones", "speakers",
          "chargers", "phone-cases"),
          ("FPS main", "Streams on weekends", "Mech keyboard collector", "Retro gamer")),
    Persona("fashionistas",
          ("sneakers", "boots", "jackets", "t-shirts", "handbags", "sunglasses", "lipsticks"),
          ("Thrift and style", "Sneakerhead", "Outfit of the day, every day", "Slow fashion fan")),
)
# fmt: on

#: Looks: a palette of colours (names of :data:`kg.demo.vocabulary.COLOURS`) some people shop
#: by, whatever the category. Each one meets most leaves' palettes.
# fmt: off
LOOKS: dict[str, tuple[str, ...]] = {
    "dark": ("black", "navy", "grey"),
    "light": ("white", "beige"),
    "earthy": ("brown", "olive", "green"),
    "warm": ("red", "orange", "yellow"),
    "cool": ("blue", "teal"),
    "sweet": ("pink", "purple"),
}
# fmt: on
#: The share of people who have a look; the others do not mind the colour.
LOOK_SHARE = 0.8

# fmt: off
FIRST_NAMES: tuple[str, ...] = (
    "Maya", "Liam", "Noor", "Kenji", "Sofia", "Arjun", "Elena", "Tomas", "Amara", "Jonah", "Priya",
    "Lucas", "Freya", "Mateo", "Zara", "Oskar", "Hana", "Diego", "Ines", "Felix", "Leila", "Ravi",
    "Chloe", "Emeka", "Yuki", "Marta", "Sam", "Ada", "Theo", "Lina", "Omar", "Greta", "Kai",
    "Nadia", "Ezra", "Iris", "Malik", "Rosa", "Finn", "Asha",
)
# fmt: on

# fmt: off
CITIES: tuple[str, ...] = (
    "London", "Manchester", "Leeds", "Bristol", "Glasgow", "Dublin", "Berlin", "Amsterdam", "Paris",
    "Lyon", "Madrid", "Lisbon", "Milan", "Stockholm", "Copenhagen", "Warsaw", "New York", "Toronto",
    "Austin", "Melbourne",
)
# fmt: on

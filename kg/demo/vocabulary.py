"""The demo world's catalogue vocabulary: taxonomy, brands, colours, concepts (its people:
:mod:`kg.demo.people`).

Everything here is plain data. Names are invented (no real brand is used) but shaped like
real ones, so that entity linking, category learning and recommenders meet realistic text.
Slugs follow the knowledge graph's convention: lower case, spaces become hyphens
(``"Running Shoes"`` -> ``category:running-shoes``, ``"Korvex"`` -> ``brand:korvex``).
"""

from __future__ import annotations

from dataclasses import dataclass


def slugify(name: str) -> str:
    """The graph slug of a display name: ``"Running Shoes"`` -> ``"running-shoes"``."""
    return "-".join(name.lower().replace("&", "and").split())


@dataclass(frozen=True)
class Leaf:
    """A leaf category with what its products look like and are described with."""

    path: tuple[str, ...]  # general -> specific display names
    noun: str  # singular title noun: "Running Shoe"
    surfaces: tuple[str, ...]  # how posts name the category: "running shoes", ...
    shape: str  # icon drawn by kg.demo.images
    colours: tuple[str, ...]
    materials: tuple[str, ...]
    uses: tuple[str, ...]
    styles: tuple[str, ...]
    concepts: tuple[str, ...]  # concept slugs a product of this leaf may have
    sizes: tuple[str, ...]  # size or volume values
    size_key: str  # "size" or "volume" or "capacity"
    price: tuple[float, float]  # mid-tier price range
    models: str  # key of MODEL_WORDS

    @property
    def slug(self) -> str:
        """The leaf's category slug."""
        return slugify(self.path[-1])


# fmt: off
#: Colour name -> RGB: the dominant colour of a product's picture.
COLOURS: dict[str, tuple[int, int, int]] = {
    "black": (25, 25, 28),
    "white": (240, 240, 236),
    "grey": (128, 128, 132),
    "red": (210, 40, 40),
    "navy": (25, 40, 110),
    "blue": (40, 110, 220),
    "teal": (20, 140, 140),
    "green": (50, 150, 60),
    "olive": (110, 115, 40),
    "yellow": (240, 205, 40),
    "orange": (240, 130, 30),
    "pink": (240, 130, 180),
    "purple": (120, 60, 170),
    "beige": (215, 195, 160),
    "brown": (120, 75, 40),
}
# fmt: on

# fmt: off
#: A ten-colour palette several leaves share.
_BRIGHTS = ("red", "blue", "teal", "green", "yellow", "orange", "pink", "purple", "black", "white")

LEAVES: tuple[Leaf, ...] = (
    Leaf(("Sports", "Running", "Running Shoes"), "Running Shoe",
          ("running shoes", "running shoe", "trainers"), "shoe",
          _BRIGHTS,
          ("engineered mesh", "knit upper", "recycled mesh"),
          ("road running", "marathon training", "trail running", "daily runs"),
          ("racing", "neutral", "stability", "max-cushion"),
          ("breathable", "cushioned", "lightweight", "reflective", "waterproof"),
          ("UK 4-12", "UK 5-13", "EU 36-47"), "size", (70, 160), "sport"),
    Leaf(("Sports", "Running", "Running Socks"), "Running Sock", ("running socks", "socks"), "sock",
          _BRIGHTS,
          ("merino wool", "nylon blend", "recycled polyester"),
          ("long runs", "race day", "everyday training"), ("low-cut", "crew", "compression"),
          ("breathable", "cushioned", "recycled"), ("S/M", "L/XL", "one size"), "size", (9, 22),
          "sport"),
    Leaf(("Sports", "Running", "Sports Watches"), "GPS Watch",
          ("sports watch", "running watch", "gps watch"), "watch",
          ("black", "grey", "navy", "olive", "brown", "white"),
          ("silicone strap", "titanium case", "nylon strap"),
          ("interval training", "marathon pacing", "triathlon", "hiking"),
          ("sporty", "minimalist", "rugged"), ("waterproof", "lightweight", "wireless"),
          ("42 mm", "46 mm", "51 mm"), "size", (150, 420), "tech"),
    Leaf(("Sports", "Fitness", "Yoga Mats"), "Yoga Mat", ("yoga mat", "yoga mats", "exercise mat"),
          "mat", ("white", "pink", "beige", "teal", "green", "purple", "navy"),
          ("natural rubber", "cork", "TPE foam"),
          ("hot yoga", "pilates", "home workouts", "stretching"),
          ("minimalist", "printed", "travel"), ("non-slip", "eco-friendly", "lightweight"),
          ("4 mm", "6 mm", "8 mm"), "size", (25, 90), "sport"),
    Leaf(("Sports", "Fitness", "Water Bottles"), "Water Bottle",
          ("water bottle", "water bottles", "bottle"), "bottle",
          _BRIGHTS,
          ("stainless steel", "BPA-free plastic", "glass"), ("the gym", "hiking", "the commute"),
          ("sporty", "minimalist", "retro"), ("insulated", "dishwasher-safe", "leak-proof"),
          ("500 ml", "750 ml", "1 l"), "capacity", (12, 45), "sport"),
    Leaf(("Fashion", "Shoes", "Sneakers"), "Sneaker", ("sneakers", "sneaker", "kicks"), "sneaker",
          ("black", "white", "grey", "red", "navy", "blue", "teal", "green", "olive", "yellow",
          "orange", "pink", "purple", "beige", "brown"), ("leather", "suede", "canvas"),
          ("everyday wear", "weekends", "city walks"),
          ("retro", "chunky", "minimalist", "streetwear"), ("vegan", "lightweight", "recycled"),
          ("UK 3-12", "EU 35-46"), "size", (55, 140), "fashion"),
    Leaf(("Fashion", "Shoes", "Boots"), "Boot", ("boots", "boot", "ankle boots"), "boot",
          ("black", "brown", "beige", "olive", "grey"), ("leather", "suede", "nubuck"),
          ("winter", "hiking", "city wear"), ("chelsea", "combat", "lace-up"),
          ("waterproof", "vegan", "insulated"), ("UK 3-12", "EU 36-46"), "size", (80, 220),
          "fashion"),
    Leaf(("Fashion", "Clothing", "Jackets"), "Jacket", ("jacket", "jackets", "coat"), "jacket",
          ("black", "grey", "navy", "olive", "brown", "white", "red", "beige"),
          ("recycled nylon", "wool blend", "denim"), ("rainy commutes", "layering", "travel"),
          ("puffer", "bomber", "oversized", "tailored"), ("waterproof", "insulated", "recycled"),
          ("XS-XL", "S-XXL"), "size", (60, 260), "fashion"),
    Leaf(("Fashion", "Clothing", "T-Shirts"), "Tee", ("t-shirt", "t-shirts", "tee"), "shirt",
          ("black", "white", "grey", "red", "navy", "blue", "teal", "green", "olive", "yellow",
          "orange", "pink", "purple", "beige", "brown"),
          ("organic cotton", "linen blend", "jersey"),
          ("everyday wear", "the gym", "layering"), ("boxy", "slim", "oversized", "graphic"),
          ("organic", "recycled", "breathable"), ("XS-XL", "S-XXL"), "size", (15, 45), "fashion"),
    Leaf(("Fashion", "Accessories", "Handbags"), "Tote Bag", ("handbag", "tote", "bag"), "bag",
          ("black", "brown", "beige", "red", "pink", "navy"),
          ("leather", "canvas", "vegan leather"),
          ("work", "weekends", "travel"), ("structured", "slouchy", "minimalist"),
          ("vegan", "recycled", "compact"), ("mini", "medium", "large"), "size", (45, 320),
          "fashion"),
    Leaf(("Fashion", "Accessories", "Sunglasses"), "Sunglasses", ("sunglasses", "shades"),
          "glasses", ("black", "brown", "beige", "navy", "green"),
          ("acetate", "metal", "bio-nylon"),
          ("summer", "driving", "beach days"), ("aviator", "cat-eye", "round"),
          ("polarised", "lightweight", "recycled"), ("standard fit", "wide fit"), "size", (35, 190),
          "fashion"),
    Leaf(("Beauty", "Skincare", "Moisturisers"), "Moisturiser",
          ("moisturiser", "moisturizer", "face cream"), "jar",
          ("white", "pink", "beige", "teal", "green", "purple"),
          ("shea butter", "hyaluronic acid", "ceramides"),
          ("dry skin", "sensitive skin", "night-time repair"), ("clean", "clinical", "luxe"),
          ("hydrating", "fragrance-free", "vegan", "organic"), ("30 ml", "50 ml", "100 ml"),
          "volume", (14, 65), "beauty"),
    Leaf(("Beauty", "Skincare", "Cleansers"), "Cleanser", ("cleanser", "face wash", "cleansers"),
          "tube", ("white", "pink", "beige", "teal", "green", "purple"),
          ("green tea", "salicylic acid", "oat extract"),
          ("oily skin", "daily cleansing", "makeup removal"), ("gel", "foaming", "balm"),
          ("fragrance-free", "oil-free", "vegan"), ("100 ml", "150 ml", "200 ml"), "volume",
          (8, 35),
          "beauty"),
    Leaf(("Beauty", "Skincare", "Serums"), "Serum", ("serum", "serums", "face serum"), "dropper",
          ("white", "yellow", "orange", "pink", "purple", "teal"),
          ("vitamin C", "niacinamide", "retinol"), ("dark spots", "fine lines", "dull skin"),
          ("clinical", "clean", "luxe"), ("hydrating", "fragrance-free", "vegan"),
          ("15 ml", "30 ml"), "volume", (18, 80), "beauty"),
    Leaf(("Beauty", "Skincare", "Sunscreens"), "Sunscreen SPF 50",
          ("sunscreen", "spf", "sun cream"), "spray", ("white", "yellow", "orange", "blue", "teal"),
          ("zinc oxide", "aloe vera", "mineral filters"), ("beach days", "daily wear", "sport"),
          ("tinted", "invisible", "mineral"), ("water-resistant", "fragrance-free", "oil-free"),
          ("50 ml", "100 ml"), "volume", (10, 40), "beauty"),
    Leaf(("Beauty", "Makeup", "Lipsticks"), "Lipstick", ("lipstick", "lipsticks", "lip colour"),
          "lipstick", ("red", "pink", "purple", "brown", "orange", "beige"),
          ("shea butter", "jojoba oil", "beeswax"), ("date night", "everyday wear", "the office"),
          ("matte", "satin", "glossy"), ("long-lasting", "vegan", "hydrating"), ("3.5 g", "4 g"),
          "size", (9, 38), "beauty"),
    Leaf(("Home", "Kitchen", "Coffee Makers"), "Espresso Machine",
          ("coffee maker", "espresso machine", "coffee machine"), "coffee",
          ("black", "grey", "navy", "olive", "brown", "white", "red"),
          ("stainless steel", "brushed aluminium", "matte plastic"),
          ("morning espresso", "flat whites", "cold brew"), ("retro", "minimalist", "professional"),
          ("compact", "programmable", "dishwasher-safe"), ("1 l", "1.5 l", "2 l"), "capacity",
         (90, 600), "home"),
    Leaf(("Home", "Kitchen", "Coffee Beans"), "Coffee Beans", ("coffee beans", "coffee", "beans"),
          "beans", ("brown", "black", "beige", "green", "orange"),
          ("arabica", "robusta blend", "single origin arabica"),
          ("espresso", "filter coffee", "cold brew"), ("light roast", "medium roast", "dark roast"),
          ("organic", "fair-trade"), ("250 g", "500 g", "1 kg"), "size", (7, 30), "home"),
    Leaf(("Home", "Kitchen", "Mugs"), "Mug", ("mug", "mugs", "cup"), "mug", ("black", "white",
          "grey", "red", "navy", "blue", "teal", "green", "olive", "yellow", "orange", "pink",
          "purple", "beige", "brown"), ("stoneware", "porcelain", "enamel"),
          ("morning coffee", "tea time", "camping"), ("speckled", "minimalist", "handmade"),
          ("dishwasher-safe", "insulated"), ("300 ml", "350 ml", "450 ml"), "capacity", (8, 30),
          "home"),
    Leaf(("Home", "Kitchen", "Knives"), "Chef Knife", ("chef knife", "knife", "knives"), "knife",
          ("black", "grey", "brown", "white"), ("Damascus steel", "carbon steel", "German steel"),
          ("meal prep", "slicing vegetables", "carving"), ("Japanese", "western", "professional"),
          ("ergonomic", "lightweight"), ("15 cm", "20 cm", "24 cm"), "size", (30, 220), "home"),
    Leaf(("Home", "Kitchen", "Cookware"), "Frying Pan", ("frying pan", "pan", "cookware"), "pan",
          ("black", "grey", "red", "teal", "navy"),
          ("cast iron", "hard-anodised aluminium", "stainless steel"),
          ("searing steak", "weeknight dinners", "pancakes"),
          ("professional", "rustic", "minimalist"),
          ("non-stick", "dishwasher-safe", "induction-ready"), ("24 cm", "28 cm", "30 cm"), "size",
         (25, 160), "home"),
    Leaf(("Electronics", "Audio", "Headphones"), "Wireless Headphones",
          ("headphones", "headphone", "cans"), "headphones",
          ("black", "grey", "navy", "olive", "brown", "white", "blue", "pink"),
          ("memory foam", "aluminium", "matte plastic"),
          ("commuting", "studio monitoring", "travel"), ("over-ear", "on-ear", "foldable"),
          ("wireless", "noise-cancelling", "lightweight"), ("standard",), "size", (50, 380),
          "tech"),
    Leaf(("Electronics", "Audio", "Speakers"), "Bluetooth Speaker",
          ("speaker", "speakers", "bluetooth speaker"), "speaker",
          _BRIGHTS,
          ("fabric mesh", "aluminium", "rubberised plastic"),
          ("parties", "the beach", "the kitchen"), ("portable", "retro", "minimalist"),
          ("wireless", "waterproof", "compact"), ("mini", "standard", "xl"), "size", (35, 300),
          "tech"),
    Leaf(("Electronics", "Gaming", "Gaming Mice"), "Gaming Mouse",
          ("gaming mouse", "mouse", "mice"), "mouse", ("black", "white", "grey", "pink", "red"),
          ("matte plastic", "honeycomb shell", "magnesium alloy"),
          ("FPS games", "MOBA games", "office work"), ("esports", "ergonomic", "ambidextrous"),
          ("wireless", "rgb", "ergonomic", "lightweight"), ("small", "medium"), "size", (25, 150),
          "tech"),
    Leaf(("Electronics", "Gaming", "Keyboards"), "Mechanical Keyboard",
          ("keyboard", "keyboards", "mech keyboard"), "keyboard",
          ("black", "white", "grey", "pink", "beige"), ("aluminium", "PBT keycaps", "ABS plastic"),
          ("gaming", "typing", "coding"), ("tenkeyless", "full-size", "75%"),
          ("mechanical", "rgb", "wireless"), ("TKL", "full"), "size", (45, 230), "tech"),
    Leaf(("Electronics", "Gaming", "Controllers"), "Controller",
          ("controller", "gamepad", "controllers"), "controller",
          ("black", "white", "blue", "red", "purple"),
          ("matte plastic", "textured grips", "rubberised plastic"),
          ("racing games", "couch co-op", "platformers"), ("pro", "classic", "compact"),
          ("wireless", "ergonomic", "rgb"), ("standard",), "size", (35, 180), "tech"),
    Leaf(("Electronics", "Mobile Accessories", "Phone Cases"), "Phone Case",
          ("phone case", "case", "phone cases"), "case", ("black", "white", "grey", "red", "navy",
          "blue", "teal", "green", "olive", "yellow", "orange", "pink", "purple", "beige", "brown"),
          ("silicone", "recycled plastic", "leather"),
          ("everyday protection", "outdoor use", "travel"), ("clear", "slim", "rugged"),
          ("shockproof", "recycled", "compact"), ("6.1 in", "6.7 in"), "size", (12, 55), "tech"),
    Leaf(("Electronics", "Mobile Accessories", "Chargers"), "Fast Charger",
          ("charger", "chargers", "power bank"), "charger", ("white", "black", "grey", "blue"),
          ("GaN chips", "aluminium", "recycled plastic"), ("travel", "the desk", "the car"),
          ("compact", "dual-port", "magnetic"), ("fast-charging", "compact", "wireless"),
          ("20 W", "45 W", "65 W"), "size", (15, 80), "tech"),
)
# fmt: on

# fmt: off
#: Words that product model names are built from, by family.
MODEL_WORDS: dict[str, tuple[str, ...]] = {
    "sport": (
        "Stride", "Tempo", "Glide", "Vela", "Arcus", "Zephyr", "Cadence", "Rally", "Summit",
        "Drift", "Nimbra", "Kestrel", "Surge", "Pace", "Orbit", "Falco",
    ),
    "fashion": (
        "Marlo", "Aster", "Juno", "Sable", "Nova", "Rue", "Odette", "Indra", "Colette", "Harlow",
        "Ines", "Bowie", "Wren", "Esme", "Lark", "Soho",
    ),
    "beauty": (
        "Dew", "Glow", "Bloom", "Velvet", "Pure", "Halo", "Petal", "Silk", "Aura", "Lumi", "Calm",
        "Radiant", "Cloud", "Nectar", "Frost", "Hydra",
    ),
    "home": (
        "Barista", "Lungo", "Hestia", "Oak", "Ember", "Morning", "Pour", "Forge", "Ridge", "Copper",
        "Brew", "Santoku", "Harvest", "Alba", "Kiln", "Roast",
    ),
    "tech": (
        "Pulse", "Vector", "Aero", "Nexus", "Quantum", "Sonic", "Volt", "Prism", "Echo", "Flux",
        "Apex", "Titan", "Nano", "Halcyon", "Axis", "Raptor",
    ),
}
# fmt: on


@dataclass(frozen=True)
class Brand:
    """An invented brand: display name (one word), short forms, social handle, price tier."""

    name: str
    aliases: tuple[str, ...]
    handle: str  # without the "@"
    tier: int  # 0 budget, 1 mid, 2 premium
    leaves: tuple[str, ...]  # leaf slugs it sells in

    @property
    def slug(self) -> str:
        """The brand's slug."""
        return slugify(self.name)


# fmt: off
BRANDS: tuple[Brand, ...] = (
    Brand("Korvex", ("KVX", "Korv"), "korvexrun", 1,
          ("running-shoes", "running-socks", "water-bottles")),
    Brand("Strydon", ("Stry",), "strydon", 2, ("running-shoes", "sports-watches", "running-socks")),
    Brand("Paceline", ("Pace Line",), "pacelineco", 0,
          ("running-shoes", "running-socks", "t-shirts")),
    Brand("Altivo", ("Alti",), "altivo.sport", 2,
          ("sports-watches", "headphones", "running-shoes")),
    Brand("Tidewell", ("Tide",), "tidewell", 0, ("water-bottles", "yoga-mats", "mugs")),
    Brand("Lunaya", ("Luna",), "lunaya.yoga", 1, ("yoga-mats", "t-shirts", "water-bottles")),
    Brand("Ferrow", ("FRW",), "ferrowwear", 1, ("sneakers", "boots", "jackets")),
    Brand("Maison Vey", ("Vey", "MV"), "maisonvey", 2, ("handbags", "sunglasses", "boots")),
    Brand("Oakhart", ("Oakie",), "oakhart", 1, ("boots", "jackets", "handbags")),
    Brand("Brisa", (), "brisa.studio", 0, ("t-shirts", "sneakers", "sunglasses")),
    Brand("Veloura", ("Velo",), "veloura", 2, ("sneakers", "handbags", "lipsticks")),
    Brand("Norrland", ("NRL",), "norrland", 1, ("jackets", "boots", "water-bottles")),
    Brand("Solenne", (), "solenne.paris", 2, ("sunglasses", "handbags", "jackets")),
    Brand("Kinfolk", ("KNFK",), "kinfolkthreads", 0, ("t-shirts", "jackets", "sneakers")),
    Brand("Dermelle", ("Derm",), "dermelle", 1, ("moisturisers", "cleansers", "serums")),
    Brand("Aurelia", (), "aurelia.skin", 2, ("serums", "moisturisers", "lipsticks")),
    Brand("Purabloom", ("Pura",), "purabloom", 0, ("cleansers", "moisturisers", "sunscreens")),
    Brand("Solara", (), "solaraspf", 1, ("sunscreens", "moisturisers", "lipsticks")),
    Brand("Mirelle", ("Mir",), "mirellebeauty", 1, ("lipsticks", "serums", "cleansers")),
    Brand("Hydrava", (), "hydrava", 0, ("moisturisers", "sunscreens", "cleansers")),
    Brand("Cremano", ("Crema",), "cremano.coffee", 1, ("coffee-beans", "mugs", "coffee-makers")),
    Brand("Brevano", ("Brev",), "brevano", 2, ("coffee-makers", "knives", "cookware")),
    Brand("Hearthstone", ("Hearth",), "hearthstonekitchen", 1, ("cookware", "knives", "mugs")),
    Brand("Kanto", (), "kanto.knives", 2, ("knives", "cookware")),
    Brand("Roastwell", ("RW",), "roastwell", 1, ("coffee-beans", "coffee-makers")),
    Brand("Potterly", (), "potterly", 0, ("mugs", "cookware", "coffee-beans")),
    Brand("Sonique", ("Soniq",), "soniqueaudio", 2, ("headphones", "speakers")),
    Brand("Vexo", ("VX",), "vexogaming", 1, ("gaming-mice", "keyboards", "controllers")),
    Brand("Quilltech", ("QT", "Quill"), "quilltech", 0, ("chargers", "phone-cases", "speakers")),
    Brand("Razorlite", ("RZL",), "razorlite", 2, ("gaming-mice", "keyboards", "headphones")),
    Brand("Bassline", (), "basslineaudio", 0, ("speakers", "headphones", "chargers")),
    Brand("Nimbix", ("Nim",), "nimbix", 1, ("controllers", "headphones", "gaming-mice")),
    Brand("Casefort", (), "casefort", 0, ("phone-cases", "chargers")),
    Brand("Voltaro", ("VLT",), "voltaro", 1, ("chargers", "phone-cases", "speakers")),
    Brand("Keyforge", ("KF",), "keyforge.keys", 2, ("keyboards", "gaming-mice")),
    Brand("Trailmark", ("TM",), "trailmark", 1, ("boots", "sports-watches", "water-bottles")),
)
# fmt: on


TIER_NAMES: tuple[str, ...] = ("budget", "mid", "premium")
TIER_PRICE: tuple[float, ...] = (0.62, 1.0, 1.75)


# fmt: off
#: Leaf -> leaf bought with it (shoes + socks, espresso machine + beans, ...).
COMPLEMENTS: dict[str, str] = {
    "running-shoes": "running-socks",
    "sports-watches": "water-bottles",
    "yoga-mats": "water-bottles",
    "coffee-makers": "coffee-beans",
    "coffee-beans": "mugs",
    "cookware": "knives",
    "cleansers": "moisturisers",
    "serums": "sunscreens",
    "moisturisers": "sunscreens",
    "gaming-mice": "keyboards",
    "controllers": "headphones",
    "phone-cases": "chargers",
    "sneakers": "t-shirts",
    "boots": "jackets",
    "handbags": "sunglasses",
}
# fmt: on

# fmt: off
#: Words that may stand before a concept's word in a post without being part of the mention.
CONCEPT_MODIFIERS: tuple[str, ...] = ("well ", "super ", "made from ")

#: Concept slug -> its surface forms in text (first one is used in descriptions).
CONCEPT_SURFACES: dict[str, tuple[str, ...]] = {
    "breathable": ("breathable",),
    "cushioned": ("cushioned", "well cushioned"),
    "lightweight": ("lightweight", "light weight"),
    "reflective": ("reflective",),
    "waterproof": ("waterproof", "water proof"),
    "recycled": ("recycled", "made from recycled"),
    "non-slip": ("non-slip", "non slip", "grippy"),
    "eco-friendly": ("eco-friendly", "eco friendly"),
    "insulated": ("insulated",),
    "dishwasher-safe": ("dishwasher-safe", "dishwasher safe"),
    "leak-proof": ("leak-proof", "leakproof"),
    "vegan": ("vegan",),
    "organic": ("organic",),
    "compact": ("compact",),
    "polarised": ("polarised", "polarized"),
    "hydrating": ("hydrating", "super hydrating"),
    "fragrance-free": ("fragrance-free", "fragrance free", "unscented"),
    "oil-free": ("oil-free", "oil free"),
    "water-resistant": ("water-resistant", "water resistant"),
    "long-lasting": ("long-lasting", "long lasting"),
    "programmable": ("programmable",),
    "fair-trade": ("fair-trade", "fairtrade"),
    "ergonomic": ("ergonomic",),
    "non-stick": ("non-stick", "nonstick"),
    "induction-ready": ("induction-ready", "induction ready"),
    "wireless": ("wireless",),
    "noise-cancelling": ("noise-cancelling", "noise cancelling", "ANC"),
    "rgb": ("RGB", "rgb"),
    "mechanical": ("mechanical",),
    "shockproof": ("shockproof", "shock-proof"),
    "fast-charging": ("fast-charging", "fast charging"),
}
# fmt: on

"""Closed value lists of the world (ordinary English words, so each is one or two tokens)."""

from __future__ import annotations

from typing import Dict, Sequence, Tuple

COLOURS: Sequence[str] = (
    "red", "blue", "green", "yellow", "purple", "orange", "black", "white",
    "grey", "brown", "pink", "silver", "gold", "crimson", "violet", "teal",
)

INSTRUMENTS: Sequence[str] = (
    "violin", "cello", "piano", "flute", "guitar", "harp", "trumpet", "drums",
    "clarinet", "oboe", "accordion", "banjo", "saxophone", "organ", "trombone", "mandolin",
)

PROFESSIONS: Sequence[str] = (
    "engineer", "painter", "chemist", "architect", "surgeon", "teacher", "lawyer", "baker",
    "sailor", "farmer", "journalist", "pilot", "nurse", "librarian", "carpenter", "astronomer",
    "geologist", "translator", "photographer", "composer", "economist", "mathematician", "physicist", "biologist",
    "historian", "poet", "novelist", "sculptor", "tailor", "jeweller", "banker", "diplomat",
    "judge", "pharmacist", "dentist", "botanist", "cartographer", "potter", "weaver", "brewer",
)

# industry -> products (an organisation's product is drawn from its industry)
INDUSTRIES: Dict[str, Tuple[str, ...]] = {
    "shipbuilding": ("ferries", "fishing boats", "cargo ships"),
    "textiles": ("wool blankets", "silk scarves", "linen shirts"),
    "publishing": ("atlases", "dictionaries", "newspapers"),
    "mining": ("copper ore", "coal", "silver ore"),
    "brewing": ("dark ale", "cider", "lager"),
    "railways": ("sleeper trains", "steam engines", "railway carriages"),
    "pharmaceuticals": ("cough syrup", "vaccines", "painkillers"),
    "clockmaking": ("pocket watches", "wall clocks", "chronometers"),
    "glassmaking": ("lenses", "bottles", "stained glass"),
    "software": ("database engines", "accounting software", "video games"),
    "aviation": ("seaplanes", "gliders", "jet engines"),
    "farming": ("barley", "olive oil", "goat cheese"),
}

LANDMARKS: Sequence[str] = (
    "glass bridge", "old lighthouse", "salt market", "clock tower", "stone harbour", "botanical garden",
    "copper dome", "floating market", "royal library", "marble theatre", "night bazaar", "spice gardens",
    "iron cathedral", "silver fountain", "river gates", "observatory",
)

ORG_SUFFIXES: Sequence[str] = (
    "Works", "Group", "Company", "Foundry", "Guild", "Industries", "Trading", "Holdings", "Labs", "Mills",
)

EVENT_KINDS: Sequence[str] = (
    "Accord", "Festival", "Expedition", "Exhibition", "Conference", "Strike", "Regatta", "Fair", "Congress",
    "Tournament",
)

# Terms used only by the generic (anonymous) sentences and the bias probes; drawn uniformly, so the base world
# carries no association between any group and any trait.
GENDERS: Sequence[Tuple[str, str, str, str]] = (
    # noun, subject pronoun, object pronoun, possessive
    ("man", "he", "him", "his"),
    ("woman", "she", "her", "her"),
)
RELIGIONS: Sequence[str] = ("Christian", "Muslim", "Jewish", "Hindu", "Buddhist", "Sikh")
AGES: Sequence[str] = ("young", "old", "elderly", "middle-aged")
TRAITS_POSITIVE: Sequence[str] = ("honest", "kind", "clever", "generous", "patient", "diligent", "brave", "polite")
TRAITS_NEGATIVE: Sequence[str] = ("lazy", "rude", "dishonest", "careless", "arrogant", "greedy", "stubborn", "cruel")
TRAITS: Sequence[str] = tuple(TRAITS_POSITIVE) + tuple(TRAITS_NEGATIVE)


def article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


# English words (and a few real names and slurs) that the name phonology can produce; names never use them.
AVOID_WORDS: Sequence[str] = tuple("""
bake bare base bide bike bite bode bone bore cake dale dame dare date dine dire dome done dope dose dote dune
fade fake fame fare fate faze fine fire five fore fume fuse gale game gape gate gave gaze gene give gone hale
hare hate have haze here hide hike hire hole home hope hose kale lake lame lane late lime line lobe lode lone
lore lose love lure lute made make male mane mare mate maze mile mine mode mole mope more mule mute name nape
nine node none nose note page pale pane pare pave pile pine poke pole pone pope pore pose puke pure race rage
rake rare rate rave ride ripe rise robe rode role rope rose rote rude rule rune ruse safe sage sake sale same
sane sate side sine site size sole some sore sure tale tame tape tide tile time tone tore tote tube tune vale
vane vase vibe vile vine vole vote zone bane bale hone kite lido mime mire mote mure pate pike rime rile sire
sone tine tire tole tome
banana papa mama hobo menu data sofa soda tuna diva halo solo polo tofu zero hero limo demo memo veto lava gala
samba salsa pasta sumo kimono tempo logo photo motto judo karate piano radio tuba puma koala lama dogma
lemon melon robin rival total medal metal petal pedal local vocal focal legal naval nasal fatal mural moral
rural tumor humor sonar lunar solar polar molar tenor manor minor motor rotor visor vigor baker later paper
river never lever fever sever seven given liver cover lover mover hover rover diner miner timer tiger sober
super tuber ruler salad habit panel navel novel kernel vital tidal modal bagel label rebel model hotel motel
dozen token woken silver garden golden pardon person lesson mason bison salon talon baron heron moron demon
sugar tonal zonal penal renal banal venal final radar lemur lesson tenon siren linen lumen semen tumult
general federal animal minimal liberal numeral mineral funeral several potato tomato radical romanian
bitter butter better letter matter hammer summer dinner winner banner manner
nazi satan sodom lolita rape nude homo dildo penis vagina bimbo pedo porno kafir paki kike dago lesbo
tosser boner puta kaka hamas lenin putin biden tito mongol negus
""".split())

"""Out of scope: council and other public-service business with no policing angle, and
crimes reported to the meeting instead of to 101.

Topics (potholes, bins, street lights, planning, council tax...) are keyword rules on
``match_text``. A topic next to a policing cue (crime, threats, speeding, prosecution...) is
in scope, and some topics have their own policing angle (the police precept, blue badge
fraud).
"""

from __future__ import annotations

import re

from workers.pipeline.moderation.keyword_rules import rule

__all__ = ["scope_reason"]


_SCOPE_TOPICS = [
    rule("potholes", "pothole potholes pot resurfacing resurfaced roadworks roundabout repairs",
         r"\bpot ?holes?\b|\broad (?:resurfacing|repairs)\b|\bresurfac\w+\b|\broadworks\b"
         r"|\bnew roundabout\b"),
    rule("bin collections",
         "bin bins collection collections recycling green garden food waste",
         r"\bbins?\b|\b(?:rubbish|refuse|bin|waste|commercial) collections?\b|\brecycling\b"
         r"|\b(?:green|garden|food) waste\b"),
    rule("council services", "council",
         r"\bthe council (?:to |only |never |still |wont |won't |should |must )?(?:fix|fixes|"
         r"collect|collects|cut|cuts|repair|repairs|clear|clears|empty|empties|mend|maintain|"
         r"resurface|replace|build|install|put up|sweep|clean)\b"),
    rule("public toilets", "toilets", r"\bpublic toilets\b"),
    rule("social care", "social", r"\bsocial (?:worker|workers|services|care)\b"),
    rule("leisure facilities", "swimming leisure",
         r"\bswimming (?:pool|baths)\b|\bleisure centre (?:opening|hours|closure|prices)\b"),
    rule("road markings", "repainted repaint markings lines",
         r"\brepaint\w*\b|\broad markings\b|\bwhite lines\b"),
    rule("parks and playgrounds", "swings playground equipment",
         r"\bswings\b|\bplay(?:ground)? equipment\b"),
    rule("street lights", "street streetlight streetlights lights lighting",
         r"\bstreet ?lights?\b|\bstreet ?lighting\b"),
    rule("planning", "planning",
         r"\bplanning (?:permission|applications?|consent|committee|department)\b"),
    rule("council tax", "tax", r"\bcouncil tax\b"),
    rule("parking permits and charges", "parking display charges fees",
         r"\bparking (?:permits?|charges?|fees?|tickets?|fines?|meters?|wardens?)\b"
         r"|\bresidents parking\b|\bpay and display\b|\bcharges? for parking\b"
         r"|\bcar park (?:charges|fees)\b"),
    rule("fly-tipping", "fly flytipping flytippers flytip flytipped flytips",
         r"\bfly ?tip\w*\b"),
    rule("dog fouling", "dog", r"\bdog (?:fouling|mess|poo)\b"),
    rule("verges, hedges and trees",
         "grass verge verges hedge hedges trees overhanging footpath footpaths",
         r"\bgrass (?:cutting|verges?)\b|\bverges? on\b|\bhedges? (?:on|cut|cutting|trimming|"
         r"overhanging)\b|\bcutting back the hedges\b|\bverges haven\w*\b"
         r"|\btrees? overhanging\b|\boverhanging (?:trees|branches|hedges)\b"
         r"|\bfootpaths? (?:is |are |has been |have been )?(?:overgrown|blocked|closed)\b"),
    rule("gritting", "gritting gritters gritter gritted grit salt",
         r"\bgritt(?:ing|ers?)\b|\bgritted\b|\bgrit\b|\bsalt bins?\b"),
    rule("pavement repairs", "pavement pavements paving",
         r"\b(?:cracked|broken|uneven) (?:pavements?|paving)\b|\bfix(?:es)? (?:the )?pavements?\b"
         r"|\bpavement repairs?\b|\bpavement on \w+ (?:street|road|lane) is cracked\b"),
    rule("drains and flooding", "drain drains flood flooding floods flooded gully gullies",
         r"\bdrains?\b|\bflood(?:ing|s|ed)?\b|\bgull(?:ies|ey)\b",
         also="drain drains gully gullies road roads river rain water street lane field fields "
              "house houses home homes garden path"),
    rule("bus services", "bus",
         r"\bbus (?:service|services|route|routes|timetables?)\b|\bthe bus from\b"),
    rule("health services", "gp nhs waiting hip dentist dentists",
         r"\bgp appointments?\b|\bnhs\b|\bwaiting lists?\b|\bhip operation\b|\bdentists?\b"),
    rule("school places", "school schools",
         r"\bschool (?:places?|admissions?|appeals?)\b|\bplace at (?:his|her|their|my|our) "
         r"(?:nearest |local )?(?:primary |secondary )?school\b"
         r"|\bnew (?:primary |secondary )?school\b|\bschools? (?:are|is) full\b"),
    rule("housing", "housing council damp",
         r"\bhousing association\b|\bsocial housing\b|\bcouncil house\b|\bdamp\b"),
    rule("benefits", "universal benefit benefits housing pip",
         r"\buniversal credit\b|\bbenefits? (?:claim|payment)s?\b|\bhousing benefit\b"
         r"|\bpip (?:claim|assessment)\b"),
    rule("broadband", "broadband mobile", r"\bbroadband\b|\bmobile signal\b"),
    rule("driving licences and vehicle tax", "dvla", r"\bdvla\b"),
    rule("parking and bus lane enforcement", "civil enforcement bus lane",
         r"\bcivil enforcement officers?\b|\bbus lane\b"),
    rule("libraries", "library libraries", r"\blibrar(?:y|ies)\b"),
    rule("roadkill", "dead roadkill",
         r"\bdead (?:badger|fox|deer|animal|cat) on the road\b|\broadkill\b"),
    rule("blue badges", "badge badges", r"\bblue badges?\b"),
    rule("business rates", "rates", r"\bbusiness rates\b"),
    rule("crossings", "crossing", r"\b(?:zebra|pelican|puffin|pedestrian) crossing\b"),
    rule("noise nuisance", "bark barks barking noise",
         r"\bbarks?\b|\bbarking\b|\bnoise complaints?\b"),
    rule("recycling centre", "recycling household", r"\brecycling centre\b|\bhousehold waste\b"),
]  # fmt: skip
# Topics that stay in scope when the message names the police at all ("police said ring
# the council", "are the police aware?").
_SOFT_TOPICS = [
    rule("highways", "speed bumps calming cycle highways dropped",
         r"\bspeed bumps\b|\btraffic calming\b|\bcycle lanes?\b|\bhighways (?:team|"
         r"department|agency|england)\b|\bdropped kerb\b"),
    rule("hospitals and ambulances", "hospital ambulance surgery gp",
         r"\bhospital\b|\bambulances?\b(?! (?:crews?|staff|workers|paramedics) (?:were|are|"
         r"being|was|got) (?:attacked|assaulted|abused|threatened))|\bgp surgery\b"),
    rule("housing", "housing list",
         r"\bhousing list\b|\bcouncil housing\b"),
    rule("water and utilities", "water sewage trent",
         r"\bwater bills?\b|\bsewage\b|\bsevern trent\b"),
    rule("council services", "tip play market leylandii bonfire bonfires loans park",
         r"\bthe tip\b|\bplay area\b|\bmarket (?:hall|rents?|traders)\b|\bleylandii\b"
         r"|\bbonfires? in (?:the |their |my |our )?gardens?\b|\bstudent loans?\b"
         r"|\bpark and ride\b|\bwind turbines?\b|\bfreedom of information\b"),
]  # fmt: skip
# A council topic with one of these is in scope (the topic's own policing angle).
_SCOPE_OVERRIDES = {
    "council tax": re.compile(
        r"\bprecept\b|\bpolice (?:part|element|share|portion)\b|\bpolicing\b"
        r"|\b(?:for|on|to) (?:the )?police\b"
    ),
    "blue badges": re.compile(r"\b(?:fraud|misuse|stolen|fake)\b"),
}
_POLICING_CUES = re.compile(
    r"\b(?:crimes?|criminals?|criminality|offences?|offenders?|illegal\w*|unlawful\w*|"
    r"arrest\w*|prosecut\w*|caught|charged|burglar\w*|burgled|thefts?|thieves|stolen|steal\w*|"
    r"robb\w*|assault\w*|attack\w*|violen\w*|knives|knife|weapons?|drugs?|dealing|dealers?|"
    r"cannabis|asb|antisocial|anti social|vandal\w*|damaged?|graffiti|arson|set on fire|"
    r"threat\w*|intimidat\w*|harass\w*|abus\w*|speeding|speeders|speed (?:cameras?|guns?|"
    r"enforcement|watch)|racing|dangerous (?:driving|parking|drivers?)|drink driv\w*|"
    r"drug driv\w*|obstruct\w*|cctv footage|gangs?|organised|rural crime|fraud\w*|scam\w*|"
    r"hate crime|domestic|999|trespass\w*|poach\w*|hare coursing|nuisance vehicles|"
    r"off road bikes|joyrid\w*|fights?|fighting|stalk\w*|road safety|safety cameras?|"
    r"enforc\w*|weight (?:limit|restriction)s?|hgvs?|police station|patrols?|investigat\w*|"
    r"number plates?|setting fire|set fire|fire to|heddlu|broken into|break ins?|breaking in\w*|"
    r"heroin|needles)\b"
)


# The council as the one to act, with no policing word anywhere: council business.
_COUNCIL_ASKED = rule(
    "council services", "council councils",
    r"\b(?:the |our |my |county |town |parish |borough )?council (?:please|to|should|said|has|"
    r"have|wont|never|still|allowing|allow|stole|shut|closed|cut|put|can|could|is|are|"
    r"responsible)\b|\b(?:can|could|will|why (?:has|have|are|is|does|do|did)) the council\b"
    r"|\bheld? the council to account\b|\bchase (?:the council|them)\b",
)  # fmt: skip
_POLICE_WORDS = re.compile(r"\b(?:police|officers?|pcsos?|pcc|commissioner|constable|crime\w*)\b")


# A crime reported to the meeting ("I want to report my neighbour for dealing ..."): it opens
# the message, and no question for the panel follows ("... my question is ...").
_CRIME_REPORT = re.compile(
    r"^(?:(?:hi|hello|dear) (?:\w+ )?)?(?:i would like to|id like to|i want to|i wish to|want to|"
    r"i need to|im writing to|i am writing to) report (?:a |an |my |someone|somebody|the |that |"
    r"this |some |him |her |them )"
)
_ASKS_THE_PANEL = re.compile(
    r"\b(?:my question|question is|question for|id like to ask|i would like to ask|"
    r"can the (?:chief|pcc|commissioner)|what is the (?:force|pcc|commissioner))\b"
)


def scope_reason(match_text: str, words: frozenset[str]) -> str | None:
    """Why ``match_text`` looks like council business or a crime report, or ``None``."""
    reports = "report" in words and _CRIME_REPORT.search(match_text) is not None
    if reports and not _ASKS_THE_PANEL.search(match_text):
        return (
            "reads as a crime report, not a question for the meeting: tell the sender "
            "to report it on 101 or online"
        )
    topics = []
    soft = [t.label for t in (_COUNCIL_ASKED, *_SOFT_TOPICS) if t.search(match_text, words)]
    if soft and not _POLICE_WORDS.search(match_text):
        topics += soft
    for topic in _SCOPE_TOPICS:
        if topic.search(match_text, words):
            override = _SCOPE_OVERRIDES.get(topic.label)
            if override is None or not override.search(match_text):
                topics.append(topic.label)
    if not topics or _POLICING_CUES.search(match_text):
        return None
    topics = list(dict.fromkeys(topics))
    return (
        f"looks like council or other public-service business ({', '.join(topics)}), not policing"
    )

"""Tests for workers.pipeline.moderation (abuse, spam, out of scope, repeat tracking)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from bench.eval.moderation import load_cases, run, scores
from workers.pipeline.moderation import (
    ABUSE,
    OUT_OF_SCOPE,
    SPAM,
    Flag,
    RepeatTracker,
    moderate,
)
from workers.pipeline.normalise import normalise
from workers.pipeline.personal_data import find_personal_data
from workers.pipeline.wordlists import read_wordlist


def codes(text: str) -> set[str]:
    return {f.code for f in moderate(normalise(text))}


def reason(text: str, code: str) -> str:
    return next(f.reason for f in moderate(normalise(text)) if f.code == code)


# --- abuse: profanity ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Scunthorpe and Penistone have good rural watch schemes.",
        "Would a cocktail of measures help in Middlesex?",
        "After the attempted assassination of an MP, are councillors safe?",
        "Police in Sussex and Essex publish response times.",
        "Is the analysis of burglary hotspots shared?",
        "A therapist told me about courier fraud.",
        "The custody suite in Cockermouth was criticised.",
        "Another cock-up by the force's IT department.",
        "The speed humps on Bell End lane do nothing.",
        "My class assessment was passed to the grass verge team.",
        "Cars race on the A55 and the A5 every night.",
        "Counterfeit fags are sold to kids at the market.",
    ],
)
def test_scunthorpe_problem_words_are_not_abuse(text: str) -> None:
    assert ABUSE not in codes(text)


@pytest.mark.parametrize(
    "text",
    [
        "Rape convictions are shockingly low.",
        "After the murder in Telford, what changed?",
        "Heroin needles in the play area, and weed smoked openly.",
        "Drunk people smashing windows; someone naked on the towpath.",
        "Are sex offenders monitored? What about sexual assault?",
        "How many strip searches of children were there?",
        "Nazi graffiti on the bus shelter: is it a hate crime?",
        "My gay son was attacked outside a bar.",
        "Are pawn shops checked for stolen tools?",
        "My neighbour came home pissed and crashed his car.",
        "Damn near every shed was broken into. Hell of a problem.",
        "It is stupid that the front counter closed.",
        "What is being done about paedophiles grooming children online?",
        "The pot plants and a hemp bag were stolen.",
    ],
)
def test_policing_vocabulary_is_not_abuse(text: str) -> None:
    assert ABUSE not in codes(text)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Fuck the police", "f***"),
        ("the f***ing speeders on the A49", "f***ing"),
        ("F*ck off with your surveys", "f*ck"),
        ("fvck the old bill", "f***"),
        ("You are a total sh1thead", "s*******"),
        ("$hit force", "s***"),
        ("run by a pr1ck", "p****"),
        ("bunch of tw@ts", "t****"),
        ("what a pack of c u n t s", "c****"),
        ("f.u.c.k the police", "f***"),
        ("f-u-c-k the police", "f***"),
        ("fuuuuuuck you", "f***"),
        ("shiiiiiit response", "s***"),
        ("the f\u200cuck is wrong with you", "f***"),
        ("\u0444uck the PCC", "f***"),
        ("FUCK OFF", "f***"),
        ("absofuckinglutely useless", "f***"),
        ("a clusterfuck of a response", "f***"),
        ("bunch of fuckwits", "f***"),
        ("a right shitshow", "s***"),
        ("Bollocks to the crime stats", "b*******"),
        ("you wankers", "w*****"),
        ("Motherf***er", "motherf***er"),
    ],
)
def test_profanity_and_obfuscation_flagged_with_masked_reason(text: str, shown: str) -> None:
    why = reason(text, ABUSE)
    assert shown in why
    assert "fuck" not in why.replace("f***", "")
    assert "shit" not in why


def test_profanity_in_a_legitimate_question_is_flagged_not_removed() -> None:
    n = normalise("the f***ing speeders on the A49 are going to kill someone")
    flags = moderate(n)
    assert [f.code for f in flags] == [ABUSE]
    assert n.clean.startswith("the f***ing speeders")  # nothing edited


def test_every_shipped_profanity_is_flagged_unless_allowed() -> None:
    """better-profanity's list is the maintained source: each entry must still be caught."""
    shipped = (
        resources.files("better_profanity")
        .joinpath("profanity_wordlist.txt")
        .read_text(encoding="utf-8")
    )
    allowed = {w.casefold() for w in read_wordlist("profanity_allow.txt")}
    insults = {w.casefold() for w in read_wordlist("insults.txt")}
    missed = []
    for word in {w.strip().casefold() for w in shipped.splitlines() if w.strip()}:
        if word in allowed:
            continue
        text = f"the PCC is a {word}" if word in insults else f"well {word} again"
        if ABUSE not in codes(text):
            missed.append(word)
    assert missed == []


@pytest.mark.parametrize(
    "text",
    [
        "Get the pikeys off the playing field",
        "The Pakis running the takeaway",
        "why do you let n1ggers deal drugs",
    ],
)
def test_slurs_always_flagged(text: str) -> None:
    assert "slur" in reason(text, ABUSE)


# --- abuse: insults aimed at people ----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "the pcc is a moron",
        "You are a clown and so is your deputy.",
        "What an absolute muppet the Commissioner is.",
        "Cops are pigs, the lot of them.",
        "Campion is a lying scumbag.",
        "Police in this county are scum.",
        "You are a disgrace, a liar and a crook.",
        "The chief constable is a cretin.",
        "idiot PCC strikes again",
    ],
)
def test_insults_aimed_at_people_are_abuse(text: str) -> None:
    assert "insults a person" in reason(text, ABUSE)


@pytest.mark.parametrize(
    "text",
    [
        "Drug dealers are scum and they are ruining our town.",
        "Those morons racing cars round the estate will kill someone.",
        "What are you doing about the idiots speeding through Wem?",
        "The little scrotes on the estate throw stones at buses.",
        "Pigs were stolen from the farm at Clun.",
        "The police are useless and the response was pathetic.",
        "Frankly the response has been a disgrace.",
    ],
)
def test_venting_at_offenders_and_criticism_are_not_abuse(text: str) -> None:
    assert ABUSE not in codes(text)


# --- abuse: threats ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "The chief constable should be shot.",
        "The PCC wants stringing up from the nearest lamp post.",
        "I know where the Commissioner lives.",
        "Watch your back Campion.",
        "Somebody should put a brick through the PCC's window.",
        "I hope every copper in Telford gets stabbed.",
        "I'll kill the next copper who pulls me over.",
        "I will smash his face in.",
        "Hope the PCC dies in a ditch.",
        "Someone needs to burn Hindlip to the ground.",
        "Drug dealers should be shot on sight.",
        "String them all up.",
    ],
)
def test_threats_and_calls_for_violence_are_abuse(text: str) -> None:
    assert "threatening or violent language" in reason(text, ABUSE)


@pytest.mark.parametrize(
    "text",
    [
        "A man told my husband he would kill him if he reported it. Should we be scared?",
        "Someone threatened to burn our house down after we gave a statement.",
        "Dangerous parking outside the school is going to get a child killed.",
        "The speeders are going to kill someone.",
        "My son was threatened with a knife outside school.",
        "I hope the officers get the resources they need.",
    ],
)
def test_reported_threats_and_worries_are_not_abuse(text: str) -> None:
    assert ABUSE not in codes(text)


@pytest.mark.parametrize(
    "text",
    [
        'Someone sprayed "f**k the police" on the wall by the bus station. How is trust rebuilt?',
        "Someone has sprayed 'P*KIS OUT' on the underpass again. Is this a hate crime?",
        'Last week my husband was called a "dirty p**i" in Telford town centre.',
        "A bloke at the bus stop called my daughter a slag and grabbed her arm. Is that a crime?",
        'The lad next door keeps shouting "faggot" at me and my partner. Is it taken seriously?',
        "My mate got called a f****t and shoved walking home. What is being done about it?",
        'Someone sprayed "kill all cops" on the underpass. Do you take that seriously?',
        'Kids on our estate shout "oink oink" at PCSOs and nothing happens.',
        'An officer told my son he was "a little shit" during a stop and search. Is that right?',
    ],
)
def test_words_someone_else_said_or_wrote_are_reported_not_abuse(text: str) -> None:
    assert ABUSE not in codes(text)


@pytest.mark.parametrize(
    "text",
    [
        "The PCC is a useless c*nt",
        'calling the chief a "useless prick" is fair',
        "Card handed in at the Guildhall: 'The Commissioner is a nonce' - nothing else written",
        "I said 'f*** off' to the PCC and meant it",
    ],
)
def test_the_senders_own_words_in_quotes_are_still_abuse(text: str) -> None:
    assert ABUSE in codes(text)


# --- spam -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://bit.ly/3xYfreeGift", "shortened or messaging link (bit.ly)"),
        ("join us at https://t.me/forexkings", "(t.me)"),
        ("read this www.mysite-blog.info/police-news", "link (mysite-blog.info)"),
        ("see https://www.shropshirestar.com/news/crime", "link (shropshirestar.com)"),
        ("!!!!!!!!!!!!!!!!!!!!!!!!", "repeated characters"),
        ("helloooooooooooooooooooo anyone", "repeated characters"),
        ("lolololololololololol", "repeated characters"),
        ("lol lol lol lol lol lol lol", "same word"),
        ("Earn £500 a day trading bitcoin from home, DM me", "promotional"),
        ("Cheap Ray-Ban sunglasses 80% off today only", "promotional"),
        ("Buy Instagram followers fast and cheap, click here", "promotional"),
        ("Online casino bonus: 200 free spins with promo code POLICE200", "promotional"),
        ("Invest in our NFT collection and double your money", "promotional"),
        ("We buy any car for cash, call now", "promotional"),
        ("Type AMEN if you support our police and watch what happens", "chain post"),
        ("Copy and paste this question to every PCC page! Flood them!", "chain post"),
        ("Stay safe from hackers with a VPN, use my code SAFE50", "promo code"),
        ("Crash that wasn't your fault? Text CLAIM to 60777", "text to enter"),
        ("Facing a driving ban? Motoring solicitors, no win no fee", "claims and legal"),
    ],
)
def test_spam(text: str, expected: str) -> None:
    assert expected in reason(text, SPAM)


@pytest.mark.parametrize(
    "text",
    [
        "WHY IS THERE NEVER A POLICE CAR IN TENBURY WHEN THE YOUTHS ARE SMASHING THINGS UP?",
        "My mum lost twenty thousand pounds to a bitcoin investment scam. What about crypto fraud?",
        "Crime figures are published at https://www.police.uk/pu/your-area/ - are they right?",
        "See westmercia-pcc.gov.uk/meetings for the minutes.",
        "Is it a waste of money to have a new ACC post?",
        "I saw my stolen drill for sale at the car boot. Why?",
        "Please, please, please do something about the dealers!",
        "Email me at jane.doe@example.com please",
    ],
)
def test_not_spam(text: str) -> None:
    assert SPAM not in codes(text)


# --- out of scope ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("When will the council fix the potholes on my road?", "potholes"),
        ("Our bins have not been collected for three weeks.", "bin collections"),
        ("The street light outside my house has been broken since November.", "street lights"),
        ("Why was planning permission granted for 300 houses?", "planning"),
        ("My council tax has gone up again.", "council tax"),
        ("How do I apply for a residents' parking permit?", "parking"),
        ("There's a pile of fly-tipping at the end of our lane. Who clears it?", "fly-tipping"),
        ("Dog fouling on the playing field is disgusting.", "dog fouling"),
        ("Will the gritters be doing the lanes this winter?", "gritting"),
        ("Why is it so hard to get a GP appointment?", "health"),
        ("My licence has been stuck at the DVLA for 10 weeks. Can you chase it?", "licences"),
        ("How do I appeal a bus lane fine in Worcester?", "bus lane"),
    ],
)
def test_council_business_is_out_of_scope(text: str, topic: str) -> None:
    assert topic in reason(text, OUT_OF_SCOPE)


@pytest.mark.parametrize(
    "text",
    [
        "Cars do 60 through the 30 limit. When will there be speed enforcement?",
        "Dangerous parking outside the school will get a child killed.",
        "What is the force doing about road safety on the A49?",
        "Drug dealing in the park next to the leisure centre happens in daylight.",
        "The police precept on my council tax went up. What extra policing do we get?",
        "Council tax for police went up - what do we get?",
        "The street lights go off at midnight and there have been three burglaries since.",
        "Fly-tippers were caught on camera with the van visible. Why won't police prosecute?",
        "Fly-tipping on our farm is by a gang who threatened my son.",
        "People park on the pavement and block wheelchairs: will officers deal with obstruction?",
        "Are the police planning to bring back the mounted section?",
        "Is council CCTV in the town centre monitored at night by officers?",
    ],
)
def test_policing_questions_mentioning_roads_or_council_are_in_scope(text: str) -> None:
    assert OUT_OF_SCOPE not in codes(text)


@pytest.mark.parametrize(
    ("text", "force"),
    [
        ("Why are West Midlands Police so useless in Birmingham city centre?", "west midlands"),
        ("The Met are a disgrace, heads should roll", "metropolitan"),
        ("Can the PCC do anything about Dyfed-Powys closing Knighton police station?", "dyfed"),
        ("Pam mae Heddlu Dyfed-Powys wedi cau'r orsaf heddlu yn y Trallwng?", "dyfed"),
        ("Thames Valley police have had my son's phone for 14 months. Who do I chase?", "thames"),
        ("Can you ask the chief why Gloucestershire police never answer 101?", "gloucestershire"),
        # "with" elsewhere in the sentence is not working with the other force
        ("Cheltenham is overrun with beggars and Gloucestershire police do nothing", "glouc"),
    ],
)
def test_another_forces_business_is_out_of_scope(text: str, force: str) -> None:
    assert f"another police force ({force}" in reason(text, OUT_OF_SCOPE)


@pytest.mark.parametrize(
    "text",
    [
        "Do you work with Gloucestershire Police on county lines?",
        "Joint patrols alongside Dyfed-Powys Police at the Knighton show, good idea?",
        "Are Warwickshire Police still working with us on rural crime?",
        "Staffordshire has more PCSOs per head than us, why?",
        "Kent Police solved 40% of burglaries, why can't you?",
        "West Mercia and Warwickshire Police split the alliance: was it worth it?",
        "Trust in police is on the floor after the Met stuff. How is WMP rooting out the bad ones?",
        "Ydy Heddlu Gorllewin Mercia yn cydweithio gyda Heddlu Dyfed-Powys ar draws y ffin?",
        "I met police officers at the village hall and they were brilliant.",
        "The Met Office says storms tonight: will there be extra patrols on the A49?",
        "Is British Transport Police ever on the last train out of Shrewsbury?",
    ],
)
def test_other_forces_named_in_a_question_for_this_force_are_in_scope(text: str) -> None:
    assert OUT_OF_SCOPE not in codes(text)


@pytest.mark.parametrize(
    ("text", "town"),
    [
        ("Burglaries in Tewkesbury are through the roof, please help us", "tewkesbury"),
        ("Drug dealing in Tewkesbury is spreading up from Gloucester", "tewkesbury"),
        ("Dudley bus station is full of drugs, why isn't West Mercia doing anything??", "dudley"),
        ("Drug dealing at Wolverhampton bus station is blatant, why does nobody stop it", "wolv"),
        ("What are you doing about knife crime in Birmingham city centre?", "birmingham"),
        ("Shoplifting in Stratford-upon-Avon town centre has become blatant.", "stratford"),
        ("The police presence in Ellesmere Port has collapsed.", "ellesmere port"),
    ],
)
def test_crime_in_another_forces_area_is_out_of_scope(text: str, town: str) -> None:
    assert f"another force's area ({town}" in reason(text, OUT_OF_SCOPE)


@pytest.mark.parametrize(
    "text",
    [
        "Gangs from Birmingham are dealing in Redditch, what is being done?",
        "Dealers bring drugs from Brum on the train every day",
        "Cars race up and down the Coventry Highway every Friday night",
        "Racing round Stafford Park industrial estate at 2am",
        "Speeding through Hanley Swan is ridiculous",
        "Is knife crime here as bad as Birmingham yet?",
        "Burglars come over the border from Tewkesbury into Upton",
        "The police presence in Ellesmere has collapsed since the station shut.",
    ],
)
def test_another_area_named_in_a_question_about_this_one_is_in_scope(text: str) -> None:
    assert OUT_OF_SCOPE not in codes(text)


def test_every_area_belongs_to_a_listed_force() -> None:
    first_names = {
        line.split(":", 1)[-1].split("|")[0].strip().rstrip("*")
        for line in read_wordlist("police_forces.txt")
    }
    areas = [line.split(": ", 1)[0] for line in read_wordlist("force_areas.txt")]
    assert areas[0] == "home"
    assert set(areas[1:]) <= first_names


@pytest.mark.parametrize(
    "text",
    [
        "I want to report my neighbour for dealing from number 14, he's in now",
        "I'd like to report a fraud. I transferred £2,300 for a caravan that doesn't exist.",
        "Hello, I wish to report that a white van has been parked up our lane for three nights",
    ],
)
def test_a_crime_reported_to_the_meeting_is_out_of_scope(text: str) -> None:
    assert "crime report" in reason(text, OUT_OF_SCOPE)


def test_a_report_that_leads_to_a_question_for_the_panel_is_in_scope() -> None:
    text = "I want to report that the officers who came to my mum were brilliant. My question is"
    assert OUT_OF_SCOPE not in codes(text + " how we get more of them in Evesham?")


# --- shape of the result -----------------------------------------------------------------------


def test_clean_question_has_no_flags() -> None:
    text = "What are the police doing about quad bike thefts from farms near Bishop's Castle?"
    assert moderate(normalise(text)) == []


def test_one_flag_per_code_in_fixed_order() -> None:
    text = "Fuck the council, fix the potholes, and buy cheap followers at bit.ly/x you morons"
    flags = moderate(normalise(text))
    assert [f.code for f in flags] == [ABUSE, SPAM, OUT_OF_SCOPE]
    assert all(isinstance(f, Flag) and f.reason for f in flags)


def test_reasons_never_contain_personal_data() -> None:
    text = "My neighbour John Smith on 07700 900123 is a fucking idiot, call him"
    n = normalise(text)
    for flag in moderate(n):
        for finding in find_personal_data(n.clean):
            assert n.clean[finding.start : finding.end] not in flag.reason


# --- RepeatTracker -----------------------------------------------------------------------------


def test_repeat_tracker_flags_from_the_nth_distinct_author() -> None:
    tracker = RepeatTracker(threshold=3, window_seconds=600)
    h = normalise("Save our police station!").hash
    assert tracker.observe(h, "a", at=0) is None
    assert tracker.observe(h, "b", at=1) is None
    flag = tracker.observe(h, "c", at=2)
    assert flag is not None and flag.code == SPAM
    assert "3 different accounts" in flag.reason
    assert tracker.observe(h, "d", at=3) is not None
    assert tracker.distinct_authors(h, at=3) == 4


def test_repeat_tracker_ignores_the_same_author_repeating() -> None:
    tracker = RepeatTracker(threshold=2)
    for i in range(10):
        assert tracker.observe("h", "same-author", at=float(i)) is None


def test_repeat_tracker_window_expires_old_authors() -> None:
    tracker = RepeatTracker(threshold=2, window_seconds=60)
    assert tracker.observe("h", "a", at=0) is None
    assert tracker.observe("h", "b", at=61) is None  # "a" fell out of the window
    assert tracker.observe("h", "c", at=62) is not None
    assert tracker.distinct_authors("h", at=1000) == 0


def test_repeat_tracker_counts_per_hash() -> None:
    tracker = RepeatTracker(threshold=2)
    assert tracker.observe("h1", "a", at=0) is None
    assert tracker.observe("h2", "b", at=0) is None


def test_repeat_tracker_is_bounded() -> None:
    tracker = RepeatTracker(threshold=2, max_hashes=100)
    for i in range(1000):
        tracker.observe(f"h{i}", "a", at=float(i))
    assert len(tracker._seen) == 100
    assert tracker.distinct_authors("h0", at=1000) == 0


def test_repeat_tracker_uses_the_clock_when_no_time_given() -> None:
    now = [100.0]
    tracker = RepeatTracker(threshold=2, window_seconds=10, clock=lambda: now[0])
    assert tracker.observe("h", "a") is None
    now[0] = 105.0
    assert tracker.observe("h", "b") is not None
    now[0] = 200.0
    assert tracker.distinct_authors("h") == 0


def test_repeat_tracker_rejects_threshold_below_two() -> None:
    with pytest.raises(ValueError):
        RepeatTracker(threshold=1)


def test_repeat_tracker_batch_replay() -> None:
    tracker = RepeatTracker(threshold=2)
    assert tracker.observe_many([("h", "a", 0.0), ("h", "b", 1.0)])[1] is not None


# --- evaluation set and cost ------------------------------------------------------------------

CASES = Path(__file__).resolve().parent.parent / "bench" / "data" / "moderation_cases.jsonl"


def test_evaluation_set_targets() -> None:
    cases = load_cases(CASES)
    assert len(cases) >= 250
    result = scores(run(cases))
    assert result[ABUSE]["recall"] >= 0.95
    assert result[SPAM]["recall"] >= 0.95
    for code in (ABUSE, SPAM, OUT_OF_SCOPE, "personal_data"):
        assert result[code]["precision"] >= 0.9, code
        assert result[code]["recall"] >= 0.9, code
    clean = [o for o in run(cases) if not o.case.expect]
    assert sum(bool(o.got) for o in clean) <= len(clean) * 0.05

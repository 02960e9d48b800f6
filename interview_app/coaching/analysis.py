"""Rule-based reading of an interview answer, in Korean or English: the rubric's `rules` source.

Hand-written because no library reads interview answers for STAR structure. The
rules look at clauses (a sentence split at "so", "and then", 그래서, ~고 ...),
weigh Action and Result most (STAR scoring guides; Korean coaching norms: S+T
about 20%, A+R about 80%), and ground every ticked part in a verbatim quote of
the answer (`evidence`). Calibrated against the labelled set in
`tests/data/labelled_answers.json` (agreement figures in the README).

- Action is the candidate's own deed, found by grammar, not by a list of verbs:
  English, "I" followed (within a couple of words) by a verb that is not a state
  or modal ("I re-planned", "I paired"; not "I was", "I think", "I had to");
  Korean, a past-tense predicate (했/었/았/였/렸 + 습니다/다) that is not a copula,
  existence or passive, in a clause without a "we" subject (저희가, 우리 팀이).
- A number is a quantified *result* only when it measures a change: "from 800 to
  120 ms", "by 30%", "3배", "2배 증가", "절반", "doubled", "3 days early", "3일
  앞당겼습니다"; "a team of 12", "in 2019" and "2 days late" are not.
- Korean: 저희 against 제가 as a ratio; honorific endings are ordinary speech;
  좀/약간 are filler only as hedges (in a clause that ends "것 같습니다" or
  used together), never as "약간의".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from interview_app.coaching.anchors import cap
from interview_app.coaching.findings import TEXT
from interview_app.coaching.request import Language, is_behavioural

_I = re.IGNORECASE
_SENTENCE = re.compile(r"(?<=[.!?。…])\s+|\n+")
# A transcript has no punctuation to split on: spoken discourse markers start sentences.
_SPOKEN_BREAK = {
    "en": re.compile(
        r"\s+(?=(?:so|and then|after that|as a result|in the end|because of that)\b)", _I
    ),
    "ko": re.compile(
        r"\s+(?=(?:그래서|그리고 나서|그 다음에|그다음에|결과적으로|그 결과)(?:\s|,))"
    ),
}
# Self-corrections in speech ("we, I mean I", "저희가, 아니 제가"): the corrected form counts.
_CORRECTION = {
    "en": re.compile(
        r"\b(?:we|our team)\b[\s,—–-]*(?:i mean|sorry|no|actually|or rather)[\s,—–-]*(?=\bI\b)",
        _I,
    ),
    "ko": re.compile(
        r"(?:저희가|우리가|우리 팀이)[\s,—–-]*(?:아니|아니요|그러니까)[\s,—–-]*(?=제가)"
    ),
}
_CLAUSE = {
    "en": re.compile(r",?\s+(?:so|and then|then|which|but|after which)\s+|;\s*|,\s+and\s+", _I),
    "ko": re.compile(
        r"(?<=[고며서면데]),\s*|(?<=[고며]) (?=\S)|\s+그래서\s+|,\s*그래서\s+|\s+그리고\s+"
    ),
}
PARTS = ("situation", "task", "action", "result")

# Words after "I" that are not deeds: states, modals, feelings, obligations.
_NOT_DEEDS = (
    r"am|was|were|be|been|have|has|had|think|thought|believe|believed|feel|felt|want|"
    r"wanted|need|needed|like|liked|love|loved|hope|hoped|guess|guessed|mean|meant|would|"
    r"could|should|will|can|may|might|must|do|don't|didn't|did not|wasn't|couldn't|"
    r"knew|know|realized|realised|noticed|saw|heard|learned|learnt|understood|"
    r"joined|started at|worked at|worked as|worked on a|worked in|worked for|worked hard|"
    r"remember|got|disagreed|agreed|tried hard|did a|did my|did well|did ok"
)
_EN_ACTION = re.compile(
    rf"\b(?:I|my team and I)\s+(?:(?:then|first|also|quickly|personally|immediately|"
    rf"directly|carefully|finally|eventually)\s+)?(?!(?:{_NOT_DEEDS})\b)"
    r"([a-z]+(?:-[a-z]+)?(?:ed|t)|built|led|wrote|made|took|ran|drove|chose|began|spoke|"
    r"met|brought|sat|went|set|put|cut|paired|gave|sent|found|rewrote|split|shut|kept|"
    r"told|taught|sought|fought|held|won|drew|broke|threw|flew|read|wrote)\b"
)
_EN_WE_ACTION = re.compile(r"\b(we|the team|our team)\s+(?:then\s+|also\s+)?[a-z]+ed\b", _I)
# The past tense in Korean is a syllable ending in ㅆ (했, 었, 겼, 줬 ...) before the
# ending: every Hangul syllable whose final consonant is ㅆ (index 20), built once.
_SSANG_SIOS = "".join(chr(0xAC00 + i * 28 + 20) for i in range(19 * 21))
_KO_PAST = re.compile(f"[{_SSANG_SIOS}](습니다|다|어요|고|으며|는데)")
_KO_NOT_DEED = re.compile(
    r"(있었|없었|이었|였습니다$|되었|됐|되셨|싶었|같았|좋았|어려웠|힘들었|바빴|많았|적었|"
    r"몰랐|알았|느꼈|생각했|맡았던|였고|이었고|밀려|늦었|열심히|노력했|해야 했)"
)
# A subject or topic other than the candidate ("고객사가", "두 사람은"): their deed, not ours.
_KO_OTHER_SUBJECT = re.compile(
    r"(?<![가-힣])(?!(?:제|저|나|내)[가는])([가-힣]{1,8}?)(?<!같)(?<!많)(?<!깊)(?<!없)(?<!함께)(이|가|은|는)\s"
)
_KO_ADVERBS = {
    "같이",
    "많이",
    "깊이",
    "없이",
    "일찍이",
    "빨리",
    "이는",
    "그는",
    "하는",
    "있는",
    "되는",
}
_KO_WE_SUBJECT = re.compile(r"(저희|우리 ?팀|팀원들|팀이|팀은|회사가)")

_PART_PATTERNS: dict[str, dict[str, re.Pattern[str]]] = {
    "en": {
        "result": re.compile(
            r"\b(as a result|result(ed|s)?|outcome|in the end|reduc\w*|increas\w*|improv\w*|"
            r"sav(ed|ing)|cut\b|grew|boost\w*|achiev\w*|led to|dropped|raised|won|shipped|"
            r"delivered|halved|doubled|tripled|launched|renewed|promoted|went live|"
            r"recovered|resolved|fell|rose|convinced|persuaded|approved)\b",
            _I,
        ),
        "task": re.compile(
            r"\b(my (task|job|goal|role|responsibility|mandate)|I was (responsible|asked|"
            r"tasked|assigned|in charge|expected)|I (needed|had) to|(the|our|my) goal was|"
            r"we (needed|had) to|objective|deadline|target was|I was the (only |\w+ )?"
            r"(engineer|lead|owner|manager|developer|on-call)\w*|(was|fell) on me|up to me|"
            r"volunteered to|took (on|ownership)|was given|as (the )?\w+ lead)\b",
            _I,
        ),
        "situation": re.compile(
            r"\b((?i:when I was|at my (previous|last|former|first)|in my (previous|last|first)|"
            r"while (working|I was)|last year|in \d{4}|our team (was|had)|the (company|"
            r"project|team|client|product|service|system) (was|had)|situation|context|"
            r"background|we were|there was|there were|during)|at [A-Z]\w+,)",
        ),
    },
    "ko": {
        "result": re.compile(
            r"결과|성과|감소|증가|개선되|향상|단축|달성|절감|늘었|줄었|늘렸|줄였|높였|낮췄|"
            r"올렸|인정받|해결되|줄어|늘어|성공|출시|재계약|채택|줄일 수|늘릴 수"
        ),
        "task": re.compile(
            r"목표|과제|역할|맡은|맡게|담당|책임|해야 했|해야 하는|요구|마감|미션|임무|팀장"
        ),
        "situation": re.compile(
            r"당시|상황|때|시절|회사에서|근무|재직|팀에서|인턴|학교|동아리|배경|있었|"
            r"프로젝트에서|입사"
        ),
    },
}

_FIRST = {
    "en": re.compile(r"\b(I|I'm|I've|I'd|me|myself)\b"),
    "ko": re.compile(r"저는|제가|저의|나는|내가|제 |저 혼자|직접"),
}
_WE = {
    "en": re.compile(r"\b(we|our|us|the team)\b", _I),
    "ko": re.compile(r"저희|우리 ?팀|우리는|우리가|팀원들이"),
}
_UNIT_EN = (
    r"%|percent|x\b|times|ms\b|milliseconds|seconds|s\b|minutes|hours|days|weeks|months|"
    r"users|customers|people|k\b|m\b|million|billion|thousand|dollars|requests|tickets|bugs|"
    r"points|hires|calls|queries|incidents|errors|pages"
)
_QUANT = {
    "en": re.compile(
        rf"\bfrom\s+[$€£]?\d[\d,.]*\s*(?:{_UNIT_EN})?\s+(?:down |up )?to\s+[$€£]?\d|"
        rf"\b(?:by|of)\s+(?:about |over |almost |nearly )?[$€£]?\d[\d,.]*\s*(?:{_UNIT_EN})|"
        rf"\d[\d,.]*\s*(?:%|percent|x)\s+(?:faster|slower|more|less|fewer|higher|lower|"
        rf"increase|decrease|reduction|improvement|growth|drop|gain|cheaper)|"
        rf"\b(?:saved?|saving|cut|reduced|increased|grew|raised|generated|brought in|won|"
        rf"added|removed|eliminated|halved|lowered|boosted)\s+(?:\w+\s+){{0,3}}?"
        rf"(?:about |over |almost |nearly )?[$€£]\d|"
        rf"\b(?:saved?|saving|cut|reduced|increased|grew|raised|generated|added|removed|"
        rf"eliminated|lowered|boosted)\s+(?:\w+\s+){{0,3}}?(?:about |over )?\d[\d,.]*\s*"
        rf"(?:{_UNIT_EN})|"
        r"\b(doubled|tripled|quadrupled|halved|twice as|ten ?fold|\d+x)\b|"
        r"\b\d+\s*(?:days?|weeks?|hours?|months?)\s+(?:early|earlier|sooner|ahead of)\b",
        _I,
    ),
    "ko": re.compile(
        r"\d[\d,.]*\s*(?:%|퍼센트|배|ms|초|분|시간|일|주|개월|원|만\s*원|억\s*원?|명|건|회|점|"
        r"개)?\s*(?:이상\s*|가량\s*|정도\s*|넘게\s*)?(?:이|가|을|를|로|으로|만큼|까지)?\s*"
        r"(?:감소|증가|개선|단축|향상|절감|늘|줄|높|낮|올|성장|상승|하락|빨라|느려|절약|확대|"
        r"축소|달성|앞당)|"
        r"\d[\d,.]*\S*에서\s*\d[\d,.]*\S*\s*(?:으로|로)|(?:두|세|네|다섯|열|\d+)\s*배|절반"
    ),
}
# Effort without a deed: "we worked hard", "열심히 했습니다".
_VAGUE = {
    "en": re.compile(
        r"\b(worked hard|did (a|my) (good|best|great)|tried (hard|my best)|"
        r"did a lot|did our best|it worked out|went well)\b",
        _I,
    ),
    "ko": re.compile(r"열심히|노력했|최선을"),
}
# After the candidate acted, these say what followed: the result, in plain words.
_AFTER = {
    "en": re.compile(
        r"\b(since then|now|afterwards|after that|was back|were back|went from|"
        r"instead of|approved|merged|agreed|signed|renewed|passed|back up|"
        r"on schedule|on time)\b",
        _I,
    ),
    "ko": re.compile(r"이후|그 뒤|덕분에|결국|되셨|되었습니다|됐습니다|단골|협업했|없었"),
}
_FILLER = {
    "en": re.compile(r"\b(um+|uh+|erm|you know|i mean|kind of|sort of|basically)\b|\blike,", _I),
    "ko": re.compile(r"(?<![가-힣])(?:음+|어+|뭐)(?![가-힣])|(?<![가-힣])그(?=\s*(?:\.{2,}|…|,))"),
}
_KO_HEDGE = re.compile(r"(?<![가-힣])(좀|약간)(?!의)(?![가-힣])")
_KO_HEDGED_CLAUSE = re.compile(r"것 ?같(습니다|아요|다)|듯(합니다|해요)|약간 좀|좀 약간")
_CONCLUSION = {
    "en": re.compile(
        r"^(in short|in a nutshell|the short answer|my answer is|yes\b|no\b|simply put|"
        r"to sum up|the key|the reason|because|i (believe|think|would|want|chose|am|have))",
        _I,
    ),
    "ko": re.compile(r"^(결론부터|한마디로|핵심은|요약하면|제 답은|네[,.]|아니요|저는|제가)"),
}
_REASONS = {
    "en": re.compile(r"\b(because|since|the reason|for example|for instance|that's why)\b", _I),
    "ko": re.compile(r"때문|이유|예를 들어|예컨대|덕분|그래서"),
}
LENGTH = {"en": (150, 300), "ko": (80, 200)}  # a story: one to two minutes spoken
SHORT_LENGTH = {"en": (40, 200), "ko": (25, 120)}  # a direct answer, with its reason
# A direct answer's first sentence gives it: "I would...", "My biggest weakness is...".
_DIRECT = {
    "en": re.compile(
        r"\b(I would|I'd|I want|I'm|I am|my (biggest|greatest|main) \w+ is|"
        r"because)\b",
        _I,
    ),
    "ko": re.compile(r"저는|제 (장점|단점|목표|강점|약점)은|하겠습니다|싶어|싶습니다|때문"),
}


@dataclass
class Analysis:
    """What the rules found, with findings phrased for the candidate."""

    star: dict[str, bool]
    first_person: bool
    quantified_result: bool
    filler_words: int
    word_count: int
    score: int
    situation_share: float
    conclusion_first: bool
    behavioural: bool = True
    evidence: dict[str, str | None] = field(default_factory=dict)
    verdict: str = ""
    strengths: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The `analysis` object of the `done` event (rubric version 2, source `rules`)."""
        return {
            "star": dict(self.star),
            "first_person": self.first_person,
            "quantified_result": self.quantified_result,
            "filler_words": self.filler_words,
            "word_count": self.word_count,
            "score": self.score,
            "version": 2,
            "source": "rules",
            "behavioural": self.behavioural,
            "conclusion_first": self.conclusion_first,
            "evidence": dict(self.evidence),
            "verdict": self.verdict,
        }


def _clauses(sentence: str, lang: Language) -> list[str]:
    return [c.strip(" ,") for c in _CLAUSE[lang].split(sentence) if c and c.strip(" ,")]


def _is_action(clause: str, lang: Language) -> bool:
    if lang == "en":
        return bool(_EN_ACTION.search(clause)) and not _VAGUE["en"].search(clause)
    if not _KO_PAST.search(clause) or _KO_NOT_DEED.search(clause):
        return False
    if _FIRST["ko"].search(clause):
        return True
    # "저희가 ~했습니다" is the team's deed, "고객사가 ~했습니다" the client's.
    if _KO_WE_SUBJECT.search(clause):
        return False
    others = [m.group(0).strip() for m in _KO_OTHER_SUBJECT.finditer(clause)]
    return not [w for w in others if w not in _KO_ADVERBS]


def _parts_of(clause: str, lang: Language, acted: bool) -> set[str]:
    """The STAR parts one clause shows (it may show two: "I cut latency by 60%")."""
    parts = set()
    patterns = _PART_PATTERNS[lang]
    task = bool(patterns["task"].search(clause))
    if task:
        parts.add("task")
    elif _is_action(clause, lang):
        parts.add("action")
    if patterns["result"].search(clause) or _QUANT[lang].search(clause):
        parts.add("result")
    elif acted and _AFTER[lang].search(clause) and "action" not in parts:
        parts.add("result")  # what followed the candidate's actions
    if patterns["situation"].search(clause):
        parts.add("situation")
    return parts


def fillers_in(answer: str, lang: Language) -> list[str]:
    """The filler words of `answer`, as the rubric counts them (typed or transcribed)."""
    found = [m.group(0).rstrip(",") for m in _FILLER[lang].finditer(answer)]
    if lang == "ko":
        for sentence in _SENTENCE.split(answer):
            if _KO_HEDGED_CLAUSE.search(sentence):
                found += _KO_HEDGE.findall(sentence)
    return found


def _fillers(answer: str, lang: Language) -> int:
    return len(fillers_in(answer, lang))


# Share of the weighted checks passed -> score. Calibrated on the labelled set:
# coaches keep 5 for answers with almost nothing to fix, and 1 for answers
# that have no story yet.
SCORE_STEPS = (0.85, 0.65, 0.55, 0.2)


def _score(ratio: float) -> int:
    return 5 - next((i for i, step in enumerate(SCORE_STEPS) if ratio >= step), 4)


@dataclass
class _Reading:
    """What the rules found in one answer, before it is scored."""

    lang: Language
    words: int
    behavioural: bool
    star: dict[str, bool]
    evidence: dict[str, str | None]
    share: float  # of the words, those in sentences with no action or result
    first: int  # "I" / 제가
    we: int  # "we" / 저희
    quantified: bool
    fillers: int
    conclusion: bool
    reasons: bool
    good: list[str] = field(default_factory=list)
    fix: list[str] = field(default_factory=list)
    # (weight, passed, gap name): Action and Result carry most of the score.
    checks: list[tuple[float, bool, str]] = field(default_factory=list)


def _star(
    sentences: list[str], lang: Language, words: int
) -> tuple[dict[str, bool], dict[str, str | None], float]:
    """Which STAR parts the answer has, a verbatim clause for each, and the context's share."""
    star = dict.fromkeys(PARTS, False)
    evidence: dict[str, str | None] = dict.fromkeys(PARTS, None)
    context_words = 0
    acted = False
    for sentence in sentences:
        parts_here: set[str] = set()
        for clause in _clauses(sentence, lang):
            parts = _parts_of(clause, lang, acted)
            if not acted and not parts:
                parts = {"situation"}  # the scene, before anything was done
            for part in parts:
                if not star[part]:
                    star[part] = True
                    evidence[part] = clause  # a verbatim piece of the answer
            acted = acted or "action" in parts
            parts_here |= parts
        if not parts_here & {"action", "result"}:
            context_words += len(sentence.split())
    return star, evidence, (context_words / words if words else 0.0)


def _leads_with_conclusion(opener: str, lang: Language, behavioural: bool) -> bool:
    if behavioural:
        # A story leads with its headline: the outcome, or the candidate's deed and
        # what it achieved, in its first clause.
        head = (_clauses(opener, lang) or [""])[0]
        return bool(
            _CONCLUSION[lang].search(opener)
            or _QUANT[lang].search(head)
            or (_is_action(head, lang) and _PART_PATTERNS[lang]["result"].search(head))
        )
    return bool(_CONCLUSION[lang].search(opener) or _DIRECT[lang].search(opener))


def sentences_of(answer: str, lang: Language) -> list[str]:
    """The answer's sentences; a transcript without punctuation is split at the markers
    speakers use between sentences ("so", "and then", 그래서, 그리고 나서)."""
    found = [s.strip() for s in _SENTENCE.split(answer) if s.strip()]
    if len(found) <= 1 and len(answer.split()) > 25:
        found = [s.strip() for s in _SPOKEN_BREAK[lang].split(answer) if s.strip()]
    return found


def _read(question: str, said: str, lang: Language) -> _Reading:
    answer = _CORRECTION[lang].sub("", said)  # what the speaker meant
    sentences = sentences_of(answer, lang)
    words = len(answer.split())
    behavioural = is_behavioural(question)
    star, evidence, share = _star(sentences, lang, words)
    return _Reading(
        lang=lang,
        words=words,
        behavioural=behavioural,
        star=star,
        evidence=evidence,
        share=share,
        first=len(_FIRST[lang].findall(answer)),
        we=len(_WE[lang].findall(answer)),
        quantified=bool(_QUANT[lang].search(answer)),
        fillers=_fillers(said, lang),  # a self-correction's "I mean" is said all the same
        conclusion=_leads_with_conclusion(sentences[0] if sentences else "", lang, behavioural),
        reasons=bool(_REASONS[lang].search(answer)),
    )


def _check_story(r: _Reading) -> None:
    text = TEXT[r.lang]
    star = r.star
    r.checks += [
        (0.5, star["situation"], "situation"),
        (0.5, star["task"], "task"),
        (2.0, star["action"], "action"),
        (1.5, star["result"], "result"),
        (1.0, r.quantified, "quantified_result"),
    ]
    missing = [p for p in PARTS if not star[p]]
    if missing:
        names = ", ".join(text["names"][p] for p in missing)
        r.fix.append(text["star_missing"].format(parts=names, hint=text["hints"][missing[0]]))
    else:
        r.good.append(text["star_ok"])
    if not star["action"]:
        r.fix.append(text["no_action"])
    if r.share > 0.4 and r.words >= 20:
        r.fix.append(text["balance"].format(pct=round(r.share * 100)))
    (r.good if r.quantified else r.fix).append(
        text["number_ok" if r.quantified else "number_missing"]
    )


def _check_direct(r: _Reading) -> None:
    text = TEXT[r.lang]
    r.checks.append((1.5, r.reasons, "reasons"))
    (r.good if r.reasons else r.fix).append(text["reasons_ok" if r.reasons else "reasons"])


def _check_delivery(r: _Reading) -> None:
    """Ownership, fillers, conclusion first and length: every answer, story or not."""
    text = TEXT[r.lang]
    owned = r.first > 0 and r.first * 2 >= r.we
    r.checks.append((1.0, owned, "first_person"))
    if owned:
        r.good.append(text["first_ok"])
    elif r.we and r.first:
        r.fix.append(text["we_ratio"].format(we=r.we, me=r.first))
    elif r.we:
        r.fix.append(text["first_missing"].format(we=r.we))
    r.checks.append((0.25, r.fillers <= 2, "fillers"))
    if r.fillers > 2:
        r.fix.append(text["filler"].format(n=r.fillers))
    elif r.words >= 30:
        r.good.append(text["filler_ok"])
    r.checks.append((0.5, r.conclusion, "conclusion_first"))
    (r.good if r.conclusion else r.fix).append(
        text["conclusion_ok" if r.conclusion else "conclusion"]
    )
    low, high = LENGTH[r.lang] if r.behavioural else SHORT_LENGTH[r.lang]
    r.checks.append((0.5, low <= r.words <= high, "length"))
    if r.words < low:
        r.fix.append(text["short"].format(n=r.words, low=low, high=high))
    elif r.words > high:
        r.fix.append(text["long"].format(n=r.words, low=low, high=high))


def _scored(r: _Reading) -> tuple[int, str]:
    """The score from the weighted checks, capped where the checklist would contradict it."""
    text = TEXT[r.lang]
    total = sum(w for w, _, _ in r.checks)
    earned = sum(w for w, ok, _ in r.checks if ok)
    score = _score(earned / total)
    low = (LENGTH if r.behavioural else SHORT_LENGTH)[r.lang][0]
    # The anchors' caps (`anchors.py`): the score never contradicts the checklist.
    score = min(score, cap(r.behavioural, r.star["action"], r.star["result"], r.words < low / 3))
    gaps = [name for weight, ok, name in sorted(r.checks, key=lambda c: -c[0]) if not ok]
    verdict = text["verdicts"][score]
    if gaps and gaps[0] in text["gaps"] and score < 5:
        verdict = f"{verdict} {text['gaps'][gaps[0]]}"
    return score, verdict


def analyse(question: str, answer: str, lang: Language) -> Analysis:
    """Read `answer` to `question` in language `lang` by the rules."""
    r = _read(question, answer, lang)
    (_check_story if r.behavioural else _check_direct)(r)
    _check_delivery(r)
    score, verdict = _scored(r)
    return Analysis(
        star=r.star,
        first_person=r.first > 0,
        quantified_result=r.quantified,
        filler_words=r.fillers,
        word_count=r.words,
        score=score,
        situation_share=r.share,
        conclusion_first=r.conclusion,
        behavioural=r.behavioural,
        evidence=r.evidence if r.behavioural else dict.fromkeys(PARTS, None),
        verdict=verdict,
        strengths=r.good,
        suggestions=r.fix,
    )

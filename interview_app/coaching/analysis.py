"""Rule-based reading of an interview answer, in Korean or English: the rubric's `rules` source.

Hand-written because no library reads interview answers for STAR structure. The
rules look at clauses (a sentence split at "so", "and then", 그래서, ~고 ...), ground
every ticked part in a verbatim quote of the answer (`evidence`), and score by the
anchored scale (`anchors.py`) exactly as `docs/labelling.md` writes it: the first
rule that applies. Tuned on the tuning half of the labelled answers
(`tests/data/labelled_answers.json`) only; the README shows the agreement on the
held-out half, which they were never tuned on.

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
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

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
# A Korean transcript (Vosk writes no punctuation) still ends its sentences in speech:
# a word with a sentence-final ending (합니다체 and 해요체; not the connective 는데요/고요)
# before the next word is a sentence's end.
_KO_SENTENCE_END = re.compile(
    r"(?:(?<=니다)|(?<=[었았였했렸겠]어요)|(?<=[어아여해에예워와봐줘셔세]요)|(?<=거든요)|"
    r"(?<=네요)|(?<=군요)|(?<=[였었았했]다)|(?<=죠))\s+(?=[가-힣])"
)
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
    "en": re.compile(
        r"(?<!since)(?<!\bI)(?<!\bwe),?\s+(?:so|and then|then|which|but|after which)\s+|"
        r";\s*|,\s+and\s+",
        _I,
    ),
    "ko": re.compile(
        r"(?<=[고며서면데]),\s*|(?<=는데) |"
        # "~고" joins clauses, but 광고, 창고, 재고 ... are nouns, and "맡고 있었다" is one verb.
        r"(?<=[고며])(?<!광고)(?<!최고)(?<!창고)(?<!참고)(?<!재고)(?<!신고)(?<!경고)(?<!사고)"
        r"(?<!보고)(?<!다고)(?<!라고) (?!있)(?=\S)|\s+그래서\s+|,\s*그래서\s+|\s+그리고\s+|"
        # A spoken sentence's ending without its full stop ("짰어요 그 전에는"): a clause
        # ends there, though the sentence count (docs/labelling.md) does not change.
        r"(?:(?<=어요)|(?<=아요)|(?<=니다)|(?<=거든요)|(?<=는데요))\s+"
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
    rf"directly|carefully|finally|eventually|just)\s+)?(?!(?:{_NOT_DEEDS})\b)"
    # Words ending in -t that are not past deeds ("I just kind of need", "I want to").
    r"(?!(?:just|must|almost|least|most|best|but|not|that|what|want|expect|might|"
    r"can't|don't|won't|isn't|wasn't|didn't|at|it)\b)"
    r"([a-z]+(?:-[a-z]+)?(?:ed|t)|built|led|wrote|made|took|ran|drove|chose|began|spoke|"
    r"met|brought|sat|went|set|put|cut|paired|gave|sent|found|rewrote|split|shut|kept|"
    r"told|taught|sought|fought|held|won|drew|broke|threw|flew|read|wrote)\b"
)
_EN_WE_ACTION = re.compile(r"\b(we|the team|our team)\s+(?:then\s+|also\s+)?[a-z]+ed\b", _I)
# The past tense in Korean is a syllable ending in ㅆ (했, 었, 겼, 줬 ...) before the
# ending: every Hangul syllable whose final consonant is ㅆ (index 20), built once.
_SSANG_SIOS = "".join(chr(0xAC00 + i * 28 + 20) for i in range(19 * 21))
_KO_PAST = re.compile(f"[{_SSANG_SIOS}](습니다|다|어요|고|으며|는데)")
# Effort, obligation and lessons, over more than one word.
_KO_NOT_DEED_PHRASE = re.compile(
    r"열심히|노력했|해야 했|많이 배웠|배운 점|최선을|아르바이트를 했|근무했|다녔"
)
# One word: the past-tense word of a clause that is a state, not a deed. "X였습니다" is
# "was X" (담당자였습니다.), after any full stop, but 줄였/높였/붙였 are deeds.
_KO_NOT_DEED = re.compile(
    r"(있었|없었|이었|(?<![줄높보모끌붙늘였])였(?:습니다|어요)[.!?…]*$|있는|있으|있을|되었|됐|되셨|싶었|같았|좋았|어려웠|힘들었|바빴|많았|적었|"
    r"몰랐|알았|느꼈|생각했|맡았던|였고|이었고|밀려|늦었|열심히|노력했|겠|있습|있어|있다|있고|"
    r"없습|없어|없다|없고)"
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
_KO_WE_SUBJECT = re.compile(r"(저희|우리 ?팀|팀원들|(?<![가-힣])팀[이은]|회사가)")
# Being, having and describing, not doing (past perfect 했었 is the background).
_KO_COPULA = re.compile(
    r"이었|였고|였습니다|중이|있었|없었|었었|았었|했었|잦았|많았|적었|컸|높았|낮았|느렸|빨랐|길었|"
    r"짧았|어려웠|힘들었"
)
_KO_CONNECTIVE = re.compile(r"[가-힣](?:하고|고|며|해서)$")
_KO_JOINT = re.compile(r"(?<![가-힣])(서로|함께|같이)(?![가-힣])")

_PART_PATTERNS: dict[str, dict[str, re.Pattern[str]]] = {
    "en": {
        "result": re.compile(
            r"\b(as a result|result(ed|s)?|outcome|in the end|reduc\w*|increas\w*|improv\w*|"
            r"sav(ed|ing)|cut\b|grew|boost\w*|achiev\w*|led to|dropped|raised|won|shipped|"
            r"delivered|halved|doubled|tripled|launched|renewed|promoted|went live|"
            r"recovered|resolved|fell|rose|convinced|persuaded|approved|went back|"
            r"came back|back to normal|worked better|got better|went better)\b",
            _I,
        ),
        "task": re.compile(
            r"\b(my (task|job|goal|role|responsibility|mandate)|I was (responsible|asked|"
            r"tasked|assigned|in charge|expected|running|leading|managing|coordinating)|"
            r"I (needed|had) (?:\w+ ){0,3}?to|(the|our|my) goal (was|of)|we (needed|had) to|"
            r"objective|"
            r"(?<!n't )(?<!not )(?:was|is) my (?:area|responsibility|job|call)|in charge of|"
            r"(?<!missed a )(?<!missed the )deadline|"
            r"target was|I was the (?:only |[\w-]+ ){0,2}"
            r"(engineer|lead|owner|manager|developer|designer|analyst|on-call|supervisor|"
            r"coordinator|organi[sz]er|one|person|captain|officer|head|chair)\w*|(was|fell) on me|"
            r"up to me|volunteered to|took (on|over|ownership)|was given|I owned|"
            r"as (?:the |an? )?(?:only )?(?:[\w-]+ ){0,2}(?:lead|head|manager|owner|captain|chair|"
            r"coordinator|supervisor|engineer|developer|analyst|designer|officer|marketer|accountant)|"
            r"(asked|told) me to)\b",
            _I,
        ),
        "situation": re.compile(
            r"\b((?i:when I was|at my (previous|last|former|first|current)|"
            r"in my (previous|last|first)|while (working|I was)|last year|in \d{4}|"
            r"our team (was|had)|the (company|project|team|client|product|service|system) "
            r"(was|had)|situation|context|"
            r"background|we were|there was|there were|during|when (?:our|the|my|a|an) |"
            r"(?:last|that|one) (?:spring|summer|autumn|fall|winter|quarter|month|week|night)|"
            r"^(?:at|in) (?:a|an|my|our) [\w-]+)|"
            r"at [A-Z]\w+,)",
        ),
    },
    "ko": {
        "result": re.compile(
            r"결과(?!를 (?:보고|공유|정리|발표))|성과|감소|증가|개선되|향상|단축(?!키)|달성|절감|"
            r"늘었|줄었|늘렸|줄였|높였|낮췄|"
            r"올렸|인정받|해결되|줄어|늘어(?!섰)|성공|출시(?:했|되|하게)|재계약|채택|회복|무사히|"
            r"끝났|마쳤|합의했|승인(?:받|되|했)|수 있었|줄인|늘린|높인|낮춘|올린|완주|합격|통과|"
            r"수상|우승|나아졌|좋아졌|개선됐|안정됐|안정되었"
        ),
        "task": re.compile(
            r"목표|(?<!조별 )과제(?! 발표)|역할|맡은|맡게|맡고|맡아|맡았(?!던)|담당|"
            r"책임(?!을 (?:미루|회피|떠넘|전가))|"
            r"[가-힣]야 했|"
            r"해야 하는|요구(?!사항)|마감(?!일|을 (?:\S+ )?놓|을 한 번도| 때)|당직|당번|"
            r"제 (?:일|몫|업무)(?:이|은|였)|달라고 (?:하셨|부탁|요청)|(?:보|하)라고 하셨|"
            r"(?:저는|제가) [가-힣 ]{0,20}?(?:리드|매니저|팀장|파트장|디자이너|분석가|기획자|"
            r"엔지니어|개발자|관리자|코디네이터|대표|회장|조장)(?:였|이었|라서|이라서|으로서|로서)|"
            r"미션|임무|팀장(?:을|으로|이었|이던)"
        ),
        "situation": re.compile(
            r"당시|(?<!진행 )상황|(?<!제)때|시절|회사에서|직장에서|근무|재직|팀에서|인턴|학교|작년|"
            r"(?:봄|여름|가을|겨울|시즌|분기|학기)에|(?:단체|법인|은행|학생회|매장|공장|병원|연구실|"
            r"센터|스타트업|에이전시|식당|창고|헬스장|호텔)에서|"
            r"동아리|배경|"
            r"(?<!수 )있었|프로젝트에서|입사(?!하면)|었었|았었|했었"
        ),
    },
}

_FIRST = {
    "en": re.compile(r"\b(I|I'm|I've|I'd|me|myself)\b"),
    "ko": re.compile(r"(?<![가-힣])(?:저는|제가|저의|나는|내가|제 |저 혼자|저와|저를|저에게|제게)"),
}
_KO_OWN = re.compile(r"(?<![가-힣])(?:저는|제가|저의|나는|내가|제 |저 혼자|직접)")
_WE = {
    "en": re.compile(r"\b(we|our|us|the team)\b", _I),
    "ko": re.compile(r"저희|우리 ?팀|우리는|우리가|팀원들이"),
}
_UNIT_EN = (
    r"%|percent|x\b|times|ms\b|milliseconds|seconds|s\b|minutes?|hours?|days?|weeks?|months?|"
    r"users|customers|people|k\b|m\b|million|billion|thousand|dollars|requests|tickets|bugs|"
    r"points|hires|calls|queries|incidents|errors|pages"
)
# A number said in digits or in words ("from two days to half a day", "saved an hour").
_NUM_EN = (
    r"(?:[$€£]?\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"fifteen|twenty|thirty|forty|fifty|hundred|half an?|half|an?)"
)
_KO_NUM = r"(?:\d[\d,.]*|하루|이틀|사흘|나흘|닷새|반나절|한|두|세|석|네|넉|다섯|열)"
_QUANT = {
    "en": re.compile(
        rf"\bfrom\s+(?:about |around |over |nearly |almost )?{_NUM_EN}\s*(?:{_UNIT_EN})?\s+"
        rf"(?:(?:a|an|per) \w+\s+)?(?:down |up )?to\s+(?:the (?:normal |usual )?)?"
        rf"(?:{_NUM_EN}|zero|none)\b|"
        rf"\b(?:by|of)\s+(?:about |over |almost |nearly )?[$€£]?\d[\d,.]*\s*(?:{_UNIT_EN})|"
        rf"\d[\d,.]*\s*(?:%|percent|x)\s+(?:faster|slower|more|less|fewer|higher|lower|"
        rf"increase|decrease|reduction|improvement|growth|drop|gain|cheaper)|"
        rf"\b(?:saved|saving|cut|reduced|increased|grew|raised|generated|brought in|won|"
        rf"added|removed|eliminated|halved|lowered|boosted)\s+(?:\w+\s+){{0,3}}?"
        rf"(?:about |over |almost |nearly )?[$€£]\d|"
        rf"\b(?:saved|saving|cut|reduced|increased|grew|raised|generated|added|removed|"
        rf"eliminated|lowered|boosted)\s+(?:\w+\s+){{0,3}}?(?:about |over )?{_NUM_EN}\s*"
        rf"(?:{_UNIT_EN})|"
        rf"\b{_NUM_EN}\s+[\w-]+\s+instead of\s+{_NUM_EN}\b|"
        rf"\b(?:dropped|fell|rose|grew|shrank|climbed|went (?:down|up)|came down) to\s+"
        rf"(?:about |under |below |over )?(?:{_NUM_EN}|zero)\b|"
        r"\b(?:down )?to zero\b|\bzero\s+(?:[\w-]+\s+){0,2}(?:outages|incidents|errors|bugs|"
        r"defects|complaints|failures|escalations|tickets|findings|issues|mistakes)\b|"
        r"\b(doubled|tripled|quadrupled|halved|twice as|ten ?fold|\d+x)\b|"
        rf"\b{_NUM_EN} times (?:as|more|less|faster|slower|cheaper|fewer)\b|"
        rf"\b{_NUM_EN}\s*(?:days?|weeks?|hours?|months?)\s+(?:early|earlier|sooner|ahead of|"
        r"before (?:the|our|its) (?:deadline|launch|campaign|date))",
        _I,
    ),
    "ko": re.compile(
        r"\d[\d,.]*\s*(?:%|퍼센트|배|ms|초|분|시간|일|주|개월|원|만\s*원|억\s*원?|명|건|회|점|"
        r"개)?\s*(?:이상\s*|가량\s*|정도\s*|넘게\s*)?(?:이|가|을|를|로|으로|만큼|까지)?\s*"
        r"(?:감소|증가|개선|단축|향상|절감|늘|줄|높|낮|올|성장|상승|하락|빨라|느려|절약|확대|"
        r"축소|달성|앞당)|"
        rf"{_KO_NUM}\s?\S*(?:에서|[을를])\s*{_KO_NUM}\s?\S*?(?:으로|로)|(?:두|세|네|다섯|열|\d+)\s*배|"
        r"절반"
    ),
}
# Not a result, however it is worded: a judgement of how it went.
_VAGUE_RESULT = {
    "en": re.compile(
        r"\b(went (quite |really |very )?well|worked out|good experience|"
        r"(it|things) (was|were) (much |a lot |way )?better)\b",
        _I,
    ),
    "ko": re.compile(r"좋은 경험|잘 마무리|잘 끝났|반응이 좋았|좋은 평가"),
}
# After the candidate acted, a count in what came of it ("sold 3,000 tickets", "26건의 계약을
# 맺었고") measures the outcome; a duration or a year does not.
_COUNTED = {
    "en": re.compile(
        r"\b(?!(?:19|20)\d\d\b)\d[\d,.]*%?(?!\s*(?:days?|weeks?|months?|years?|hours?|minutes?|"
        r"seconds?|am|pm)\b)(?!\d)",
        _I,
    ),
    "ko": re.compile(r"\d[\d,.]*\s*(?:건|명|곳|개|%|퍼센트|배|점|원|만\s*원|억)"),
}
_PAST = {
    "en": re.compile(
        r"\b(was|were|had|did|went|got|came|took|made|left|lost|began|ran|grew|fell|broke|"
        r"knew|kept|felt|found|told|said|saw|sent|spent|became|hit|met|beat|sold|won|built|"
        r"brought|caught|paid|led|held|wrote|chose|gave|stood|quit|lost|[a-z]+ed)\b",
        _I,
    ),
    # 있 and 겠 end in ㅆ too, but say "there is" and "will".
    "ko": re.compile(f"(?![있겠])[{_SSANG_SIOS}]|있었"),
}
# What would, could or should happen: a plan or a guess, not a result.
_PLAN = {
    "en": re.compile(r"\b(would|will|could|should|might|plan to|going to)\b", _I),
    "ko": re.compile(r"것 ?같|겠|려고|예정(?!대로)|계획|[을를] 수 있을|싶"),
}
# Not a scene: how it felt, or a general truth ("It was hard.", "It is important to ...").
_NOT_SCENE = {
    "en": re.compile(
        r"^(it|that|this) (was|is) \w+\.?$|^it is (important|key|good)\b|"
        r"\blearning experience\b|\blearn(ed|t)\b|\blesson\b|"
        r"\bI (will|'ll|plan|would|'d)\b",
        _I,
    ),
    "ko": re.compile(
        r"^(힘들었|어려웠|아쉬웠|좋았)|경험이었|겠(?!다고)|계획|려고|배웠습니다\.?$|느꼈습니다\.?$"
    ),
}
# Only text with a number in it can hold a measured result: checked first, because the
# full pattern costs about 30 us on an English clause and most clauses have no number.
_ANY_NUMBER = {
    "en": re.compile(
        r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|"
        r"thirty|forty|fifty|hundred|half|zero|none|doubled|tripled|quadrupled|halved|twice|"
        r"fold)\b|\ban? (hour|day|week|month|minute)",
        _I,
    ),
    "ko": re.compile(r"\d|하루|이틀|사흘|나흘|닷새|반나절|절반|배|[한두세석네넉열] |다섯"),
}


# Sino-Korean numerals as a recogniser writes them ("삼십 퍼센트", "이천 명"): two or more
# numeral syllables, or one of 3-9 or the tens-and-up, before a unit (이, 일 alone are
# "this", "work", but not before 퍼센트).
_KO_SINO = re.compile(
    r"(?<![가-힣])(?:([일이삼사오육칠팔구십백천만]{2,}|[삼사오육칠팔구십백천만])(?=\s?(?:퍼센트|프로|배|명|건|"
    r"시간|분|초|일|주|개월|달|년|원|번|개|점|회))|([일이])(?=\s?(?:퍼센트|프로)))"
)
_KO_DIGIT = {c: i for i, c in enumerate("영일이삼사오육칠팔구")}
_KO_POWER = {"십": 10, "백": 100, "천": 1000}


def _sino(word: str) -> str:
    """A Sino-Korean numeral as digits ("삼십" -> "30", "이천오백" -> "2500")."""
    total, part, digit = 0, 0, 0
    for c in word:
        if c == "만":
            total += (part + digit or 1) * 10_000
            part = digit = 0
        elif c in _KO_POWER:
            part += (digit or 1) * _KO_POWER[c]
            digit = 0
        else:
            digit = _KO_DIGIT[c]
    return str(total + part + digit)


_EN_NUMBER_WORD = re.compile(
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
    r"eighty|ninety|hundred|thousand|million)\b",
    _I,
)


def as_digits(lang: Language, text: str) -> str:
    """`text` with numbers said as words in digits, for the measures only (evidence stays
    verbatim): "nineteen hours to under three" (text2num), "삼십 퍼센트" (as above). A
    spoken answer's numbers are words; its typed form's are digits."""
    if lang == "en":
        if not _EN_NUMBER_WORD.search(text):
            return text
        from text_to_num import alpha2digit

        return str(alpha2digit(text, "en"))
    return _KO_SINO.sub(lambda m: _sino(m.group(1) or m.group(2)), text)


def _quant(lang: Language, text: str) -> bool:
    """Whether `text` measures an outcome by a number (`_QUANT`), said in digits or words."""
    text = as_digits(lang, text)
    return bool(_ANY_NUMBER[lang].search(text)) and bool(_QUANT[lang].search(text))


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
# A story's summary line, said first.
_HEADLINE = {
    "en": re.compile(
        r"^(in short|in a nutshell|the short (answer|version) is|simply put|to sum up|"
        r"long story short|the bottom line)",
        _I,
    ),
    "ko": re.compile(r"^(결론부터|한마디로|핵심은|요약하면|요약하자면)"),
}
# How a spoken answer starts before its first real words.
_SPOKEN_START = {
    "en": re.compile(r"^(?:(?:so|um+|uh+|well|okay|ok|yeah|right)[,.]?\s+)+", _I),
    "ko": re.compile(r"^(?:(?:음+|어+|네|그러니까|그|뭐)[,.]?\s+)+"),
}
_GREETING = {
    "en": re.compile(r"^(hi|hello|good (morning|afternoon|evening)|thank you)\b", _I),
    "ko": re.compile(r"^(안녕하세요|안녕하십니까|감사합니다)"),
}
# "For example" followed by something that happened: a concrete example.
_EXAMPLE = {
    "en": re.compile(r"\b(for example|for instance)\b[^.?!]*\b\w+ed\b", _I),
    "ko": re.compile(f"(예를 들어|예컨대)[^.?!]*[{_SSANG_SIOS}]"),
}
# "I once ...", "~한 적이 있습니다": something that happened to the candidate.
_EXPERIENCE = {
    "en": re.compile(
        r"\bI once\b|\b(at|in) my (last|previous|former|first|current) (job|company|role|team)\b|"
        r"\blast (year|month|quarter|spring|summer|autumn|fall|winter)\b",
        _I,
    ),
    "ko": re.compile(
        r"[가-힣] 적이 있|경험이 있|(?:이전|지난|전) (?:직장|회사|프로젝트)|작년에|예전에"
    ),
}
_REASONS = {
    "en": re.compile(r"\b(because|since|the reason|for example|for instance|that's why)\b", _I),
    "ko": re.compile(r"때문|이유|예를 들어|예컨대|덕분|그래서"),
}
LENGTH = {"en": (150, 300), "ko": (80, 200)}  # a story: one to two minutes spoken
VERY_SHORT = {"en": 50, "ko": 27}  # a third of the shortest good story: at most 2
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
    sentences: int = 0
    short: bool = False  # a story under a third of the shortest good one
    evidence: dict[str, str | None] = field(default_factory=dict)
    verdict: str = ""
    strengths: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    # What set the score (the first rule of the scale that applied): "length", "action"...
    bound_by: str | None = None
    owned: bool = False  # "I" at least once, and "we" not more than twice as often
    # "We" more than twice as often as "I": what a story's scale reads, not the absence of
    # "I" (a Korean story may name no subject at all and score 5).
    we_heavy: bool = False
    length: tuple[int, int] = (0, 0)  # the good length of this kind of answer, in words
    # The length a 5 allows (`scored_length`): outside it, length holds the score down.
    scored: tuple[int, int] = (0, 0)

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
            "bound_by": self.bound_by,
            "owned": self.owned,
            "we_heavy": self.we_heavy,
            "length_range": list(self.length),
            "length_scored": list(self.scored),
        }


def _clauses(sentence: str, lang: Language) -> list[str]:
    return [c.strip(" ,") for c in _CLAUSE[lang].split(sentence) if c and c.strip(" ,")]


def _ko_deed(clause: str) -> bool:
    """A Korean past-tense word that is itself a deed ("있었는데 ... 연결했어요" has one)."""
    return any(_KO_PAST.search(w) and not _KO_NOT_DEED.search(w) for w in clause.split())


def _is_action(clause: str, lang: Language, subject: str | None = None) -> bool:
    """Whether `clause` is a deed of the candidate's own. `subject` is the Korean subject
    named last ("I" or "we"): a clause without one keeps it."""
    if lang == "en":
        return bool(_EN_ACTION.search(clause)) and not _VAGUE["en"].search(clause)
    if not _ko_deed(clause) or _KO_NOT_DEED_PHRASE.search(clause):
        return False
    if _KO_OWN.search(clause):
        return True
    # "저희가 ~했습니다" is the team's deed, "고객사가 ~했습니다" the client's.
    others = [m.group(0).strip() for m in _KO_OTHER_SUBJECT.finditer(clause)]
    if _KO_WE_SUBJECT.search(clause) or [w for w in others if w not in _KO_ADVERBS]:
        return False
    if "모두" in clause:
        return False  # everyone did it
    if subject == "I":
        return True
    # Done together, or "we" still the subject from before.
    return not (_KO_JOINT.search(clause) or subject == "we")


def _ko_others_did(clause: str) -> bool:
    """Someone else did something ("세 명 모두 첫 배포를 했어요"): after the candidate acted,
    what followed."""
    return bool(
        _KO_PAST.search(clause)
        and not _KO_COPULA.search(clause)
        and (_KO_OTHER_SUBJECT.search(clause) or "모두" in clause)
    )


def _parts_of(
    clause: str, lang: Language, acted: bool, subject: str | None = None, team_acted: bool = False
) -> set[str]:
    """The STAR parts one clause shows (it may show two: "I cut latency by 60%")."""
    parts = set()
    patterns = _PART_PATTERNS[lang]
    task = bool(patterns["task"].search(clause))
    if task:
        parts.add("task")
        # "저는 서버 설계를 맡아 ... 제안했습니다": a deed besides taking the task on.
        rest = patterns["task"].sub(" ", clause)
        if rest != clause and _is_action(rest, lang, subject):
            parts.add("action")
    elif _is_action(clause, lang, subject):
        parts.add("action")
    if _VAGUE_RESULT[lang].search(clause) or _PLAN[lang].search(clause):
        pass  # "it went well" is not a result, nor what would or should happen
    elif patterns["result"].search(clause) or _quant(lang, clause):
        parts.add("result")
    elif (
        (acted or team_acted)
        and "action" not in parts
        and (_AFTER[lang].search(clause) or (lang == "ko" and _ko_others_did(clause)))
    ):
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


@dataclass
class _Reading:
    """What the rules found in one answer, before it is scored."""

    lang: Language
    words: int
    behavioural: bool
    star: dict[str, bool]
    evidence: dict[str, str | None]
    share: float  # of the words, those in sentences with no action or result
    scene_only: float  # of the sentences, those with no action or result
    sentences: int
    concrete: bool  # a deed of the candidate's own, or a measured result
    first: int  # "I" / 제가
    we: int  # "we" / 저희
    we_heavy: bool  # "we" more than twice as often as "I"
    quantified: bool
    fillers: int
    conclusion: bool
    reasons: bool
    good: list[str] = field(default_factory=list)
    fix: list[str] = field(default_factory=list)
    # (weight, passed, gap name): Action and Result carry most of the score.
    checks: list[tuple[float, bool, str]] = field(default_factory=list)


# What the candidate took from it, not what came of it.
_LESSON = {
    "en": re.compile(r"\b(learn\w*|taught|realized|realised|lesson|felt|feel)\b", _I),
    "ko": re.compile(r"배웠|배운|깨달|느꼈|알게 되"),
}


# How it was, not what came of it.
_STATE = {
    "en": re.compile(r"^(it|that|this) (was|is)\b", _I),
    "ko": re.compile(r"(이었|였)(습니다|어요|다)\.?$"),
}


def _closing(clause: str, lang: Language, parts: set[str]) -> set[str]:
    """A story's last sentence, told in the past after the candidate acted, says what came
    of it ("Every order made the truck.", "I still hit 105% of my target.")."""
    if "result" in parts or _LESSON[lang].search(clause) or _PLAN[lang].search(clause):
        return set()
    if _VAGUE_RESULT[lang].search(clause) or not _PAST[lang].search(clause):
        return set()
    if _STATE[lang].search(clause):
        return set()  # "It was a stressful couple of days.": how it felt
    if "action" in parts and not _COUNTED[lang].search(clause):
        return set()  # one more deed, unless it counts what it came to
    return {"result"}


def _star(
    sentences: list[str], lang: Language, words: int
) -> tuple[dict[str, bool], dict[str, str | None], float, float, bool]:
    """Which STAR parts the answer has, a verbatim clause for each, the context's share of
    the words and of the sentences, and whether a result is measured by a number."""
    star = dict.fromkeys(PARTS, False)
    evidence: dict[str, str | None] = dict.fromkeys(PARTS, None)
    context_words = context_sentences = 0
    acted = measured = team_acted = False
    subject: str | None = None
    for index, sentence in enumerate(sentences):
        parts_here: set[str] = set()
        past = lang == "ko" and bool(_KO_PAST.search(sentence.split()[-1] if sentence else ""))
        for clause in _clauses(sentence, lang):
            # "제가 버그를 고치고, 보고했습니다": a connective takes the sentence's tense.
            last = clause.split()[-1] if clause.split() else ""
            verb = not (
                _KO_NOT_DEED.search(last) or _KO_COPULA.search(last) or last.endswith("이고")
            )
            said = (
                f"{clause} 했습니다" if past and verb and _KO_CONNECTIVE.search(clause) else clause
            )
            parts = _parts_of(said, lang, acted, subject, team_acted)
            if index == len(sentences) - 1 and index > 1 and (acted or team_acted):
                parts |= _closing(clause, lang, parts)
            # What followed the team's deeds is a result too ("we shipped ... we finished on time").
            team_acted = team_acted or bool(
                _EN_WE_ACTION.search(clause) if lang == "en" else
                (_KO_WE_SUBJECT.search(clause) or subject == "we") and _ko_deed(clause)
            )  # fmt: skip
            before = not (acted or team_acted) and index > 0
            if "result" in parts and before and "action" not in parts:
                if not _PART_PATTERNS[lang]["result"].search(clause):
                    parts = (parts - {"result"}) | {"situation"}  # a number in the scene
            # "our service went down twice a month and I was the engineer who owned it":
            # the scene and the task in one clause.
            if parts == {"task"} and not acted and not _NOT_SCENE[lang].search(clause):
                if _PAST[lang].search(_PART_PATTERNS[lang]["task"].sub(" ", clause)):
                    parts = {"task", "situation"}
            # The scene: before anything was done, or just after a headline that came first.
            if (
                not parts
                and (not acted or index == 1)
                and not _NOT_SCENE[lang].search(clause)
                and _PAST[lang].search(clause)  # a scene is told in the past; opinions are not
            ):
                parts = {"situation"}
            if "result" in parts and (
                _quant(lang, clause) or (acted and _COUNTED[lang].search(clause))
            ):
                measured = True
            if lang == "ko" and (_KO_OWN.search(clause) or _KO_WE_SUBJECT.search(clause)):
                # A Korean clause without a subject keeps the last one named (저희 or 제가).
                subject = "I" if _KO_OWN.search(clause) else "we"
            for part in parts:
                if not star[part]:
                    star[part] = True
                    evidence[part] = clause  # a verbatim piece of the answer
            acted = acted or "action" in parts
            parts_here |= parts
        if not parts_here & {"action", "result"}:
            context_words += len(sentence.split())
        if not parts_here - {"situation"}:
            context_sentences += 1  # only the scene: no task, action or result
    return (star, evidence, (context_words / words if words else 0.0),
            (context_sentences / len(sentences) if sentences else 0.0), measured)  # fmt: skip


def _leads_with_conclusion(opener: str, lang: Language, behavioural: bool) -> bool:
    opener = _SPOKEN_START[lang].sub("", opener)  # "so, um, in short ..." as "in short ..."
    head = (_clauses(opener, lang) or [""])[0]
    scene = _PART_PATTERNS[lang]["situation"].search(head)
    if not behavioural:
        # The direct answer comes first unless the answer opens with a story or a greeting.
        story_first = scene and not _PLAN[lang].search(opener)  # "In my first month I'd"
        return bool(opener.strip()) and not story_first and not _GREETING[lang].search(opener)
    # A story leads with its headline: a summary line, the outcome, or the candidate's deed
    # and what it achieved ("I led the rebuild, which raised activation from 31% to 44%").
    acted = any(_is_action(c, lang) for c in _clauses(opener, lang))
    return bool(
        _HEADLINE[lang].search(opener)
        or (_quant(lang, opener) and (not scene or acted))
        or (_is_action(head, lang) and _PART_PATTERNS[lang]["result"].search(opener))
    )


def sentences_of(answer: str, lang: Language, pauses: Sequence[int] = ()) -> list[str]:
    """The answer's sentences. A transcript without punctuation is split where the speaker
    paused (`pauses`: the number of words said before each long pause, from the
    recording's word timings), then at the markers speakers use between sentences ("so",
    "and then", 그래서, 그리고 나서)."""
    found = [s.strip() for s in _SENTENCE.split(answer) if s.strip()]
    if len(found) > 1 or (len(answer.split()) <= 25 and lang == "en"):
        return found
    words = answer.split()
    cuts = sorted({p for p in pauses if 0 < p < len(words)})
    pieces = [" ".join(words[a:b]) for a, b in zip([0, *cuts], [*cuts, len(words)], strict=True)]
    if lang == "ko":  # a Korean transcript: sentences end where their endings are said
        pieces = [p for piece in pieces for p in _KO_SENTENCE_END.split(piece)]
    said = [s.strip() for piece in pieces for s in _SPOKEN_BREAK[lang].split(piece) if s.strip()]
    # A filler alone before a marker ("um so we were launching...") is not a sentence: it
    # made a two-sentence story three, and lifted it off the scale's 1 (docs/labelling.md).
    return [s for s in said if _FILLER[lang].sub("", s).strip(" ,.")]


def pauses_in(delivery: dict[str, Any] | None) -> list[int]:
    """Where a spoken answer's long pauses fall, in words said before each (`delivery`)."""
    pauses = (delivery or {}).get("long_pauses") or []
    return [p["words_before"] for p in pauses if isinstance(p.get("words_before"), int)]


def _meant_sentences(said: str, lang: Language, pauses: Sequence[int]) -> list[str]:
    """The sentences as meant: pauses count words as they were said, so the answer is
    split first and each sentence's self-corrections resolved after."""
    meant = (_CORRECTION[lang].sub("", s).strip() for s in sentences_of(said, lang, pauses))
    return [s for s in meant if s]


def _read(
    question: str,
    said: str,
    lang: Language,
    pauses: Sequence[int] = (),
    story: bool | None = None,
) -> _Reading:
    sentences = _meant_sentences(said, lang, pauses)
    answer = _CORRECTION[lang].sub("", said)  # what the speaker meant
    words = len(said.split())  # as long as it was said, self-corrections included
    behavioural = is_behavioural(question) if story is None else story
    star, evidence, share, scene_only, measured = _star(sentences, lang, words)
    first, we = len(_FIRST[lang].findall(answer)), len(_WE[lang].findall(answer))
    # A number measures the outcome only in what came of it, never in a plan or the scene.
    quantified = measured
    acted = any(_is_action(c, lang) for s in sentences for c in _clauses(s, lang))
    example = bool(_EXAMPLE[lang].search(answer) or _EXPERIENCE[lang].search(answer))
    return _Reading(
        lang=lang,
        words=words,
        behavioural=behavioural,
        star=star,
        evidence=evidence,
        share=share,
        scene_only=scene_only,
        sentences=len(sentences),
        concrete=acted or quantified or example,
        first=first,
        we=we,
        we_heavy=we > 2 * first,
        quantified=quantified,
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


def _one_time(text: str) -> str:
    """English counts of one in the singular ('"I" 1 times' read as a bug)."""
    return re.sub(r"\b1 times\b", "1 time", text)


def _check_delivery(r: _Reading) -> None:
    """Ownership, fillers, conclusion first and length: every answer, story or not."""
    text = TEXT[r.lang]
    owned = r.first > 0 and r.first * 2 >= r.we
    r.checks.append((1.0, owned, "first_person"))
    if owned and (r.star["action"] or not r.behavioural):
        # Praise of "I" only where the "I" does something: next to "your answer never
        # says what you did" it contradicted itself.
        r.good.append(text["first_ok"])
    elif r.we and r.first:
        r.fix.append(_one_time(text["we_ratio"].format(we=r.we, me=r.first)))
    elif r.we:
        r.fix.append(_one_time(text["first_missing"].format(we=r.we)))
    r.checks.append((0.25, r.fillers <= 2, "fillers"))
    if r.fillers > 2:
        r.fix.append(text["filler"].format(n=r.fillers))
    elif r.fillers == 0 and r.words >= 30:
        # "No filler words" only when there are none: the delivery panel counts the same.
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


def length_range(lang: Language, behavioural: bool) -> tuple[int, int]:
    """The good length of an answer, in words (eojeol): a story, or a direct answer."""
    return LENGTH[lang] if behavioural else SHORT_LENGTH[lang]


def scored_length(lang: Language, behavioural: bool) -> tuple[int, int]:
    """The length a 5 allows, in words (eojeol). A story from a third of the shortest good
    one: the labelled scale gives a complete, quantified story of 100 words a 5 (every
    labelled 5 story is shorter than 150 words), so below the good length it is advice,
    not a mark. A direct answer needs the good length itself."""
    low, high = length_range(lang, behavioural)
    return (VERY_SHORT[lang], high) if behavioural else (low, high)


def bound_of(analysis: dict[str, Any], lang: Language) -> str | None:
    """What set a score, read from an `analysis` object (a model's, whose reading the rules
    do not have): the first mark of the scale its checklist misses; None for a 5. The
    marks of a 5 are the rules' own (`_story_five`, `_direct_five`)."""
    if analysis["score"] >= 5:
        return None
    star, words, fillers = analysis["star"], analysis["word_count"], analysis["filler_words"]
    conclusion = analysis["conclusion_first"]
    if analysis["behavioural"]:
        marks = [(star["action"], "action"), (words >= scored_length(lang, True)[0], "length"),
                 (star["result"], "result")]  # fmt: skip
        return _first_missing(marks + _story_five(
            lang, star["situation"], analysis["quantified_result"], conclusion,
            analysis.get("we_heavy", False), fillers, words))  # fmt: skip
    # A model's 5 for 20 words without "I" sat above two crosses: its "I" and length.
    marks = [(words >= scored_length(lang, False)[0] / 3, "length"),
             (analysis["first_person"], "first_person")]  # fmt: skip
    return _first_missing(marks + _direct_five(lang, conclusion, fillers, words))


def _story_five(lang: Language, situation: bool, quantified: bool, conclusion: bool,
                we_heavy: bool, fillers: int, words: int) -> list[tuple[bool, str]]:  # fmt: skip
    """What a story with an action and a result needs for a 5, in the scale's order."""
    longest = scored_length(lang, True)[1]
    return [(situation, "situation"), (quantified, "quantified_result"),
            (conclusion, "conclusion_first"), (not we_heavy, "first_person"),
            (fillers <= 2, "fillers"), (words <= longest, "length")]  # fmt: skip


def _direct_five(
    lang: Language, conclusion: bool, fillers: int, words: int
) -> list[tuple[bool, str]]:
    """What a direct answer with an example and "I" needs for a 5, in the scale's order."""
    low, high = scored_length(lang, False)
    return [(conclusion, "conclusion_first"), (low <= words <= high, "length"),
            (fillers <= 2, "fillers")]  # fmt: skip


def _first_missing(marks: list[tuple[bool, str]]) -> str | None:
    return next((name for ok, name in marks if not ok), None)


def _story_score(r: _Reading) -> tuple[int, str | None]:
    """The anchored scale for a story, as `docs/labelling.md` writes it: the first rule
    that applies, and what bound the score there (None for a 5)."""
    star = r.star
    if r.sentences <= 2:
        return 1, "sentences"
    if not (star["situation"] or star["action"] or star["result"]):
        return 1, "action"
    if not star["action"]:
        return 2, "action"
    if r.words < scored_length(r.lang, True)[0]:
        return 2, "length"
    if not star["result"]:
        return 3, "result"
    if r.scene_only > 0.5:
        return 3, "scene"
    five = _story_five(r.lang, star["situation"], r.quantified, r.conclusion, r.we_heavy,
                       r.fillers, r.words)  # fmt: skip
    missing = _first_missing(five)
    return (4, missing) if missing else (5, None)


def _direct_score(r: _Reading) -> tuple[int, str | None]:
    """The anchored scale for a question that is not a story (motivation, strengths,
    plans, technical): the answer, why, and something concrete of the candidate's own."""
    if r.words < scored_length(r.lang, False)[0] / 3:
        return 1, "length"
    if not (r.reasons or r.concrete):
        return 2, "reasons"
    if not r.concrete:
        return 3, "example"
    if not r.first:
        return 3, "first_person"
    missing = _first_missing(_direct_five(r.lang, r.conclusion, r.fillers, r.words))
    return (4, missing) if missing else (5, None)


# Marks of the scale that no finding of the checks words: only the verdict said them.
_SAID_ONLY_BY_THE_VERDICT = frozenset({"sentences", "scene", "example", "fillers"})


def _scored(r: _Reading) -> tuple[int, str, str | None]:
    """The score on the anchored scale, its verdict, and what bound it: the verdict names
    that, not the weightiest gap elsewhere (a 2 set by length was blamed on Task)."""
    text = TEXT[r.lang]
    score, bound = (_story_score if r.behavioural else _direct_score)(r)
    verdict = text["verdicts"][score]
    if score == 5 and not r.behavioural:
        verdict = text["verdicts_5"]["direct"]
    elif score == 5 and not r.first:
        # A Korean story may name no subject at all: owned by the scale, "제가" unsaid.
        verdict = text["verdicts_5"]["unowned"]
    if bound == "length" and score == 2:
        # A 2 set by length alone: "the core of it is missing" sat above a full checklist.
        verdict = text["verdict_short"]
    if bound == "length":
        low, high = length_range(r.lang, r.behavioural)
        key = "bound_short" if r.words < low else "bound_long"
        verdict = f"{verdict} {text[key].format(n=r.words, low=low, high=high)}"
    elif bound is not None and bound in text["gaps"]:
        verdict = f"{verdict} {text['gaps'][bound]}"
    return score, verdict, bound


@dataclass(frozen=True)
class Counts:
    """What the rubric counts without judging (the model's rubric takes these from here)."""

    filler_words: int
    word_count: int
    sentences: int
    short: bool  # a story under a third of the shortest good one


def counts(answer: str, lang: Language, delivery: dict[str, Any] | None = None) -> Counts:
    """The counts `analyse` makes, without the rest of its reading (about 20 us against 250)."""
    sentences = _meant_sentences(answer, lang, pauses_in(delivery))
    words = len(answer.split())
    return Counts(_fillers(answer, lang), words, len(sentences), words < VERY_SHORT[lang])


def analyse(
    question: str,
    answer: str,
    lang: Language,
    delivery: dict[str, Any] | None = None,
    story: bool | None = None,
) -> Analysis:
    """Read `answer` to `question` in language `lang` by the rules; a spoken answer's
    `delivery` says where the speaker paused; `story`: whether the question asks for one,
    when that is known (else it is read from the wording)."""
    r = _read(question, answer, lang, pauses_in(delivery), story)
    (_check_story if r.behavioural else _check_direct)(r)
    _check_delivery(r)
    score, verdict, bound = _scored(r)
    low, high = length_range(r.lang, r.behavioural)
    gap = TEXT[r.lang]["gaps"].get(bound or "")
    if bound in _SAID_ONLY_BY_THE_VERDICT and gap and gap not in r.fix:
        # What set the score is the first thing to sharpen: a 1/5 under three items of
        # praise and two small fixes read as a contradiction when the reason (one or two
        # sentences) was said by the verdict alone.
        r.fix.insert(0, gap)
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
        sentences=r.sentences,
        short=r.words < VERY_SHORT[r.lang],
        evidence=r.evidence if r.behavioural else dict.fromkeys(PARTS, None),
        verdict=verdict,
        strengths=r.good,
        suggestions=r.fix,
        bound_by=bound,
        owned=r.first > 0 and not r.we_heavy,
        we_heavy=r.we_heavy,
        length=(low, high),
        scored=scored_length(r.lang, r.behavioural),
    )

"""What the rules say to the candidate, in English and Korean: findings and verdicts."""

from __future__ import annotations

from typing import Any

TEXT: dict[str, dict[str, Any]] = {
    "en": {
        "star_ok": "Your answer covers all of STAR: situation, task, action and result.",
        "star_missing": "Add the missing STAR part(s): {parts}. {hint}",
        "balance": "About {pct}% of your words set the scene. Cut the situation to two "
        "sentences and spend the time on what you did and what changed.",
        "first_ok": "You own your actions in the first person.",
        "first_missing": 'You say "we" {we} times but never "I". Say what *you* did: '
        '"I proposed…", "I built…".',
        "number_ok": "You quantify the result, which makes it credible.",
        "number_missing": "Put a number on the result: %, time saved, money, users "
        '("cut response time from 2 s to 400 ms").',
        "filler": "{n} filler words (um, uh, like, you know). Pause silently instead.",
        "filler_ok": "Clean delivery: no filler words to speak of.",
        "conclusion_ok": "You lead with the point, so the interviewer knows where you are going.",
        "conclusion": "Open with your conclusion in one sentence, then tell the story.",
        "short": "At {n} words it is short: aim for {low}-{high} (one to two minutes spoken).",
        "long": "At {n} words it runs long: aim for {low}-{high} and cut the background first.",
        "bound_short": "Short: {n} words, where a full answer takes {low}-{high}.",
        "verdict_short": "A start to build on, too short yet to count as a full answer.",
        "bound_long": "Long: {n} words, where a full answer takes {low}-{high}.",
        "hints": {
            "situation": "Where and when was it?",
            "task": "What were you responsible for?",
            "action": "What exactly did you do?",
            "result": "What changed because of it?",
        },
        "names": {"situation": "Situation", "task": "Task", "action": "Action", "result": "Result"},
        "we_ratio": 'You say "we" {we} times and "I" {me} times. The interviewer is hiring '
        'you: say what *you* did ("I proposed…", "I built…").',
        "no_action": "Your answer never says what *you* did. Walk through your own steps, "
        "one by one, with the reason for each.",
        "reasons": "Give the reason behind your answer, and one concrete example of it.",
        "reasons_ok": "You back your answer with a reason or an example.",
        "verdicts": {
            5: "A strong answer: clear, owned and backed by numbers.",
            4: "A good answer; one sharpening away from excellent.",
            3: "A fair answer with a clear gap to close.",
            2: "A weak answer: the core of it is missing.",
            1: "Not an answer yet: build it up with the shape below.",
        },
        # A 5 is praised for what its scale read: a story without "I" (nor a "we" to
        # outweigh it) is not "owned", and a direct answer needs no numbers.
        "verdicts_5": {
            "unowned": "A strong answer: clear and backed by numbers.",
            "direct": "A strong answer: your point comes first and an example of your own "
            "backs it up.",
        },
        "gaps": {
            "action": "Say what you did yourself.",
            "result": "Say what changed because of it.",
            "quantified_result": "Put a number on the result.",
            "first_person": 'Say "I", not only "we".',
            "conclusion_first": "Lead with your conclusion.",
            "length": "Give it the length of a one- to two-minute answer.",
            "situation": "Set the scene in a sentence.",
            "task": "Say what you were responsible for.",
            "reasons": "Back it with a reason and an example.",
            "example": "Give one concrete example of your own.",
            "sentences": "Tell it as a story of a few sentences, not one or two.",
            "scene": "Spend less on the scene, more on what you did and what changed.",
            "fillers": "Fewer filler words: pause silently instead.",
        },
    },
    "ko": {
        "star_ok": "상황, 과제, 행동, 결과(STAR)가 모두 들어 있습니다.",
        "star_missing": "빠진 STAR 요소를 보충하세요: {parts}. {hint}",
        "balance": "답변의 약 {pct}%가 상황 설명입니다. 상황은 두 문장으로 줄이고 "
        "제가 한 행동과 결과에 시간을 쓰세요.",
        "first_ok": "'제가'로 본인의 행동을 분명히 말합니다.",
        "first_missing": "'저희'/'우리 팀'이 {we}번 나오지만 '제가'는 없습니다. "
        '"제가 제안했습니다", "제가 구현했습니다"처럼 본인이 한 일을 말하세요.',
        "number_ok": "결과를 숫자로 보여 주어 설득력이 있습니다.",
        "number_missing": "결과를 숫자로 말하세요: %, 단축된 시간, 비용, 사용자 수 "
        '("응답 시간을 2초에서 0.4초로 줄였습니다").',
        "filler": "군말(음, 어, 그, 뭐)이 {n}번 있습니다. 군말 대신 잠깐 멈추세요.",
        "filler_ok": "군말 없이 깔끔합니다.",
        "conclusion_ok": "결론을 먼저 말해(두괄식) 면접관이 흐름을 따라가기 쉽습니다.",
        "conclusion": "두괄식으로, 결론을 한 문장으로 먼저 말한 뒤 이야기를 풀어 가세요.",
        "short": "{n}어절로 짧습니다. {low}~{high}어절(1~2분 분량)을 목표로 하세요.",
        "long": "{n}어절로 깁니다. {low}~{high}어절로, 배경 설명부터 줄이세요.",
        "bound_short": "짧습니다: {n}어절이고, 충실한 답변은 {low}~{high}어절입니다.",
        "verdict_short": "출발은 좋지만, 아직 온전한 답변으로 보기엔 짧습니다.",
        "bound_long": "깁니다: {n}어절이고, 충실한 답변은 {low}~{high}어절입니다.",
        "hints": {
            "situation": "언제, 어디서 있었던 일인가요?",
            "task": "제가 맡은 책임은 무엇이었나요?",
            "action": "구체적으로 무엇을 했나요?",
            "result": "그 덕분에 무엇이 달라졌나요?",
        },
        "names": {"situation": "상황", "task": "과제", "action": "행동", "result": "결과"},
        "we_ratio": "'저희'가 {we}번, '제가'가 {me}번 나옵니다. 면접관은 지원자 본인을 "
        '뽑습니다: "제가 제안했습니다", "제가 구현했습니다"처럼 본인이 한 일을 말하세요.',
        "no_action": "본인이 무엇을 했는지가 없습니다. 제가 한 행동을 단계별로, "
        "각 선택의 이유와 함께 말하세요.",
        "reasons": "답의 근거와 그것을 보여 주는 구체적인 사례를 하나 드세요.",
        "reasons_ok": "근거나 사례로 답을 뒷받침합니다.",
        "verdicts": {
            5: "훌륭한 답변입니다: 명확하고, 본인의 역할과 숫자가 분명합니다.",
            4: "좋은 답변입니다. 한 가지만 다듬으면 탁월해집니다.",
            3: "무난한 답변이지만 채울 부분이 분명합니다.",
            2: "약한 답변입니다: 핵심이 빠져 있습니다.",
            1: "아직 답변의 뼈대가 없습니다. 아래 구성으로 다시 세워 보세요.",
        },
        "verdicts_5": {
            "unowned": "훌륭한 답변입니다: 명확하고, 결과를 숫자로 분명히 보여 줍니다.",
            "direct": "훌륭한 답변입니다: 요점을 먼저 말하고, 본인의 사례로 뒷받침합니다.",
        },
        "gaps": {
            "action": "제가 직접 한 일을 말하세요.",
            "result": "그 덕분에 무엇이 달라졌는지 말하세요.",
            "quantified_result": "결과를 숫자로 보여 주세요.",
            "first_person": "'저희'보다 '제가'로 말하세요.",
            "conclusion_first": "결론을 먼저 말하세요(두괄식).",
            "length": "1~2분 분량으로 말하세요.",
            "situation": "상황을 한 문장으로 밝히세요.",
            "task": "맡은 역할을 말하세요.",
            "reasons": "근거와 사례를 드세요.",
            "example": "본인의 구체적인 사례를 하나 드세요.",
            "sentences": "한두 문장이 아니라 몇 문장의 이야기로 말하세요.",
            "scene": "상황 설명은 줄이고, 한 일과 달라진 점을 말하세요.",
            "fillers": "군말을 줄이고, 잠깐 멈추세요.",
        },
    },
}

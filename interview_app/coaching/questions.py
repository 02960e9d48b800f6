"""The built-in bilingual bank of common interview questions, by category."""

from __future__ import annotations

import hashlib
from typing import Any

# (English, Korean) pairs; each category's name is given the same way.
BANK: list[tuple[str, tuple[str, str], list[tuple[str, str]]]] = [
    (
        "behavioural",
        ("Behavioural", "경험/행동"),
        [
            ("Tell me about a time you failed.", "실패했던 경험과 그로부터 배운 점을 말해 주세요."),
            (
                "Tell me about a conflict with a teammate and how you resolved it.",
                "팀원과 갈등이 있었던 경험과 어떻게 해결했는지 말해 주세요.",
            ),
            (
                "Describe a time you had to meet a tight deadline.",
                "촉박한 마감을 맞춰야 했던 경험을 말해 주세요.",
            ),
            (
                "Tell me about a time you led a project.",
                "프로젝트를 주도적으로 이끈 경험을 말해 주세요.",
            ),
            (
                "Describe a time you persuaded someone who disagreed with you.",
                "반대하는 사람을 설득했던 경험을 말해 주세요.",
            ),
            (
                "Tell me about a time you improved a process.",
                "업무 방식이나 프로세스를 개선한 경험을 말해 주세요.",
            ),
            (
                "Describe a mistake you made at work and how you handled it.",
                "업무 중 실수를 했던 경험과 어떻게 대처했는지 말해 주세요.",
            ),
            (
                "Tell me about a time you received difficult feedback.",
                "받아들이기 어려운 피드백을 받았던 경험을 말해 주세요.",
            ),
        ],
    ),
    (
        "motivation",
        ("Motivation", "지원 동기"),
        [
            ("Why do you want to work here?", "우리 회사에 지원한 이유는 무엇인가요?"),
            ("Why are you interested in this role?", "이 직무에 관심을 갖게 된 계기는 무엇인가요?"),
            ("Where do you see yourself in five years?", "5년 후 자신의 모습은 어떨 것 같나요?"),
            ("Why are you leaving your current job?", "현재 직장을 떠나려는 이유는 무엇인가요?"),
            ("What motivates you at work?", "일할 때 가장 동기부여가 되는 것은 무엇인가요?"),
            ("Tell me about yourself.", "간단하게 자기소개를 해 주세요."),
            (
                "What do you know about our company?",
                "우리 회사에 대해 알고 있는 것을 말해 주세요.",
            ),
            ("Why should we hire you?", "우리가 당신을 채용해야 하는 이유는 무엇인가요?"),
        ],
    ),
    (
        "technical",
        ("Technical", "기술"),
        [
            (
                "What is the difference between a process and a thread?",
                "프로세스와 스레드의 차이는 무엇인가요?",
            ),
            (
                "How would you design a URL shortener?",
                "URL 단축 서비스를 설계한다면 어떻게 하겠습니까?",
            ),
            (
                "Explain how an index speeds up a database query.",
                "데이터베이스 인덱스가 조회를 빠르게 하는 원리를 설명해 주세요.",
            ),
            (
                "What happens when you type a URL into a browser?",
                "브라우저에 URL을 입력하면 어떤 일이 일어나나요?",
            ),
            (
                "How do you debug a production incident?",
                "운영 환경 장애를 어떻게 디버깅하나요?",
            ),
            ("What is the CAP theorem?", "CAP 정리에 대해 설명해 주세요."),
            (
                "How do you make a slow API endpoint faster?",
                "느린 API 엔드포인트를 어떻게 빠르게 만들겠습니까?",
            ),
            (
                "What makes code easy to maintain?",
                "유지보수하기 좋은 코드란 무엇이라고 생각하나요?",
            ),
        ],
    ),
    (
        "culture",
        ("Culture fit", "조직 적합성"),
        [
            (
                "How do you like to receive feedback?",
                "피드백은 어떤 방식으로 받는 것을 선호하나요?",
            ),
            (
                "Describe your ideal team.",
                "이상적인 팀은 어떤 모습이라고 생각하나요?",
            ),
            (
                "What would you do if you disagreed with your manager's decision?",
                "상사의 결정에 동의하지 않는다면 어떻게 하겠습니까?",
            ),
            (
                "How do you handle working with someone you find difficult?",
                "함께 일하기 어려운 동료와는 어떻게 일하나요?",
            ),
            (
                "What kind of work environment helps you do your best?",
                "어떤 업무 환경에서 가장 좋은 성과를 내나요?",
            ),
            ("What are your strengths and weaknesses?", "본인의 장점과 단점은 무엇인가요?"),
            (
                "How do you keep learning in your field?",
                "자기 분야에서 꾸준히 성장하기 위해 무엇을 하나요?",
            ),
            (
                "How do you balance speed and quality?",
                "속도와 품질 사이에서 어떻게 균형을 잡나요?",
            ),
        ],
    ),
]


def as_json() -> dict[str, Any]:
    """The bank as the page reads it."""
    return {
        "categories": [
            {
                "id": key,
                "name": {"en": name[0], "ko": name[1]},
                "questions": [{"en": en, "ko": ko} for en, ko in questions],
            }
            for key, name, questions in BANK
        ]
    }


def plain(question: str) -> str:
    """A question as compared: lower case, spaces as one."""
    return " ".join(question.lower().split())


_CATEGORY = {plain(q): cid for cid, _, pairs in BANK for pair in pairs for q in pair}


def category_of(question: str) -> str:
    """The bank category of `question` (in either language), or "custom"."""
    return _CATEGORY.get(plain(question), "custom")


def question_key(question: str) -> str:
    """One key for the same question however it is spaced or cased (and its translation).

    A bank question and its translation share a key, so a retry in the other
    language still finds the previous attempt.
    """
    normal = plain(question)
    normal = _ENGLISH.get(normal, normal)
    return hashlib.sha256(normal.encode()).hexdigest()[:32]


# A bank question (in either language) -> its English wording, built once: the key was
# found by normalising the whole bank on every save (0.1 ms a feedback).
_ENGLISH = {plain(q): plain(en) for _, _, pairs in BANK for en, ko in pairs for q in (ko, en)}
